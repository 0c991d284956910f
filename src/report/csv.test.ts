import { describe, expect, it } from 'vitest';
import { csvField, tradesCsv } from './csv.ts';
import { FIXTURE_START, trade } from './test-fixture.ts';

describe('trades.csv', () => {
  const t1 = trade({ id: 'T1', entryTime: FIXTURE_START + 600_000, exitTime: FIXTURE_START + 5_700_000 });
  const odd = trade({ id: 'odd, "quoted"', side: 'short', positionSide: 'short', entryTime: FIXTURE_START, exitTime: FIXTURE_START + 60_000 });

  it('has the header row and one row per trade with ISO times and raw numbers', () => {
    const lines = tradesCsv([t1, odd]).split('\r\n');
    expect(lines[0]).toBe('id,symbol,side,position_side,qty,entry_time,entry_price,exit_time,exit_price,gross_pnl,fees,funding,pnl,pnl_percent,max_adverse,exit_reason,entries');
    expect(lines[1]).toBe('T1,BTC/USDT:USDT,long,,0.5,2024-03-01T00:10:00.000Z,100.25,2024-03-01T01:35:00.000Z,103.5,1.625,0.1,-0.01,1.515,3.0224,0.4,take_profit,1');
    expect(lines).toHaveLength(4); // header, two rows, and the empty string after the final CRLF
    expect(lines[3]).toBe('');
  });

  it('quotes a value holding a comma or a quote (RFC 4180)', () => {
    const row = tradesCsv([odd]).split('\r\n')[1] ?? '';
    expect(row.startsWith('"odd, ""quoted""",BTC/USDT:USDT,short,short,')).toBe(true);
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('plain')).toBe('plain');
    expect(csvField(null)).toBe('');
  });
});
