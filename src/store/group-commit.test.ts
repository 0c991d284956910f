import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './db.ts';
import { GroupCommit } from './group-commit.ts';

describe('GroupCommit', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'halyard-gc-'));
    store = await openStore({ path: join(dir, 'gc.db') });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const addUser = (name: string) => async (trx: Store['db']) =>
    (await trx.insertInto('users').values({ name, trading_mode: 'paper', created_at: 0 }).returning('id').executeTakeFirstOrThrow()).id;

  it('gathers concurrent jobs into one transaction and resolves each with its own result', async () => {
    const gc = new GroupCommit(store.db);
    const seenTx = new Set<unknown>();
    const job = (name: string) => async (trx: Store['db']) => {
      seenTx.add(trx);
      return addUser(name)(trx);
    };
    const ids = await Promise.all([gc.run(job('g1')), gc.run(job('g2')), gc.run(job('g3'))]);
    expect(new Set(ids).size).toBe(3);
    expect(seenTx.size).toBe(1); // all three ran on the same transaction
    const names = await store.db.selectFrom('users').select('name').where('name', 'in', ['g1', 'g2', 'g3']).execute();
    expect(names).toHaveLength(3);
  });

  it('a failing job fails alone: the others of its batch are committed on retry', async () => {
    const gc = new GroupCommit(store.db);
    const results = await Promise.allSettled([gc.run(addUser('f1')), gc.run(addUser('f1')), gc.run(addUser('f3'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const names = (await store.db.selectFrom('users').select('name').where('name', 'in', ['f1', 'f3']).orderBy('name').execute()).map((r) => r.name);
    expect(names).toEqual(['f1', 'f3']);
  });
});
