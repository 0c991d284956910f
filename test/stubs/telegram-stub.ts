import { startRecordingServer, type RecordedRequest, type StubAnswer } from './recording-server.ts';

/** A Telegram Bot API stub: `POST /bot<token>/sendMessage` as Telegram answers it. */
export interface TelegramStub {
  /** The API base URL (what TELEGRAM_API_URL points at). */
  readonly apiUrl: string;
  readonly token: string;
  readonly chatId: string;
  readonly requests: readonly RecordedRequest[];
  /** The text of every accepted message as Telegram shows it (entities parsed: tags gone, `&lt;` → `<`). */
  readonly messages: string[];
  /** The next `n` requests fail with Telegram's answer for `status` (500, 401 or 404). */
  failNext(n: number, status: 500 | 401 | 404): void;
  /** The next `n` requests get 429 with `parameters.retry_after` = `retryAfterS`. */
  rateLimitNext(n: number, retryAfterS: number): void;
  close(): Promise<void>;
}

const fail = (status: number, description: string, parameters?: Record<string, unknown>): StubAnswer => ({
  status,
  body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
});
const named: Record<500 | 401 | 404, StubAnswer> = { 500: fail(500, 'Internal Server Error'), 401: fail(401, 'Unauthorized'), 404: fail(404, 'Not Found') };

const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'code', 'pre', 'a', 'tg-spoiler', 'blockquote']);

/** Parses Telegram's HTML parse mode into plain text, or returns the error Telegram gives. */
export function parseTelegramHtml(html: string): { text: string } | { error: string } {
  const open: string[] = [];
  let text = '';
  const re = /<(\/?)([a-z-]+)[^>]*>|&(lt|gt|amp|quot);|[<>&]/g;
  let last = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    text += html.slice(last, m.index);
    last = re.lastIndex;
    if (m[0] === '<' || m[0] === '>' || m[0] === '&') {
      if (m[0] !== '>') return { error: `Bad Request: can't parse entities: Unsupported start tag at byte offset ${m.index}` };
      text += '>';
    } else if (m[3]) {
      text += { lt: '<', gt: '>', amp: '&', quot: '"' }[m[3]];
    } else {
      const tag = m[2] ?? '';
      if (!ALLOWED_TAGS.has(tag)) return { error: `Bad Request: can't parse entities: Unsupported start tag "${tag}" at byte offset ${m.index}` };
      if (m[1]) {
        if (open.pop() !== tag) return { error: `Bad Request: can't parse entities: Unmatched end tag at byte offset ${m.index}, expected "</${open.at(-1) ?? ''}>", found "</${tag}>"` };
      } else open.push(tag);
    }
  }
  text += html.slice(last);
  if (open.length > 0) return { error: `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "${open.at(-1) ?? ''}"` };
  return { text };
}

/** Starts a Telegram Bot API stub on 127.0.0.1 for one bot and one chat. */
export async function startTelegramStub(token = '123456:STUB-token', chatId = '-1001234567890'): Promise<TelegramStub> {
  const messages: string[] = [];
  let messageId = 0;
  const handle = (req: RecordedRequest): StubAnswer => {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.path);
    if (!m) return named[404];
    if (m[1] !== token) return named[401];
    if (m[2] !== 'sendMessage') return named[404];
    const body = (typeof req.json === 'object' && req.json !== null ? req.json : {}) as Record<string, unknown>;
    if (String(body.chat_id) !== chatId) return fail(400, 'Bad Request: chat not found');
    if (typeof body.text !== 'string' || body.text.trim() === '') return fail(400, 'Bad Request: message text is empty');
    let text = body.text;
    if (body.parse_mode === 'HTML') {
      const parsed = parseTelegramHtml(body.text);
      if ('error' in parsed) return fail(400, parsed.error);
      text = parsed.text;
    } else if (body.parse_mode !== undefined) return fail(400, 'Bad Request: unsupported parse_mode');
    if (text.length > 4096) return fail(400, 'Bad Request: message is too long');
    messages.push(text);
    return { status: 200, body: { ok: true, result: { message_id: ++messageId, date: Math.floor(Date.now() / 1000), chat: { id: Number(chatId), type: 'supergroup' }, text } } };
  };
  const srv = await startRecordingServer(handle);
  return {
    apiUrl: srv.base,
    token,
    chatId,
    requests: srv.requests,
    messages,
    failNext: (n, status) => srv.answerNext(n, named[status]),
    rateLimitNext: (n, retryAfterS) => srv.answerNext(n, fail(429, `Too Many Requests: retry after ${retryAfterS}`, { retry_after: retryAfterS })),
    close: () => srv.close(),
  };
}
