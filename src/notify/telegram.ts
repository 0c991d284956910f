import { HalyardError } from '../core/errors.ts';
import type { Notifier } from '../core/ports.ts';
import { withRetry } from '../exchange/retry.ts';
import { DEFAULT_NOTIFY_POLICY, answerError, jsonObject, postJson, retryAfterOf, secondsToMs, truncate, type NotifyRetryPolicy } from './http.ts';

/** Telegram's limit on a message's text after entity parsing (characters). */
export const TELEGRAM_TEXT_MAX = 4096;

/** The Bot API's public endpoint. */
export const TELEGRAM_API_URL = 'https://api.telegram.org';

/** Settings of a Telegram channel. */
export interface TelegramOptions {
  /** The bot token from @BotFather (`123456:ABC…`); a secret, never logged. */
  readonly token: string;
  /** Chat to post in: a numeric id (`-100…` for groups and channels) or `@channelname`. */
  readonly chatId: string;
  /** Bot API base URL (default https://api.telegram.org; a local stub in tests). */
  readonly apiUrl?: string;
  readonly policy?: NotifyRetryPolicy;
  /** Per request (ms). */
  readonly timeoutMs?: number;
}

const LABEL = 'telegram sendMessage';

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Our alert texts in Telegram's HTML parse mode: `**bold**` (the Discord markdown the alerts are written in)
 * becomes `<b>bold</b>`, everything else is escaped. HTML needs only `& < >` escaped, where MarkdownV2
 * would need every `.`, `-`, `(` and `+` of a price line escaped.
 */
export function telegramHtml(text: string): string {
  return escapeHtml(text).replace(/\*\*([^*]+?)\*\*/g, '<b>$1</b>');
}

/**
 * The HTML of `text`, cut so the message stays within Telegram's limit, which counts the text after entity
 * parsing: tags and escapes do not count, so cutting the source (never shorter than its parsed text) is enough.
 */
function fittedHtml(text: string): string {
  return telegramHtml(truncate(text, TELEGRAM_TEXT_MAX));
}

/**
 * Posts alerts with the Telegram Bot API (`POST <api>/bot<token>/sendMessage`, JSON `{chat_id, text,
 * parse_mode}`). Network errors, 5xx and 429 are retried by `withRetry` (a 429 waits
 * `parameters.retry_after` seconds, capped at the policy's `maxDelayMs`); other errors (401 bad token,
 * 400 chat not found, 403 bot blocked) are final: a HalyardError, not retried.
 */
export class TelegramNotifier implements Notifier {
  /** Channel name in outcomes and logs. */
  readonly channel = 'telegram';
  private readonly policy: NotifyRetryPolicy;

  constructor(private readonly opts: TelegramOptions) {
    this.policy = opts.policy ?? DEFAULT_NOTIFY_POLICY;
  }

  /** Sends `message.text`. */
  async notify(message: { readonly kind: string; readonly text: string }): Promise<void> {
    await this.send(message.text);
  }

  /** Sends one message to the chat. */
  async send(text: string): Promise<void> {
    const url = `${(this.opts.apiUrl ?? TELEGRAM_API_URL).replace(/\/+$/, '')}/bot${this.opts.token}/sendMessage`;
    const chatId = /^-?\d+$/.test(this.opts.chatId) ? Number(this.opts.chatId) : this.opts.chatId;
    const body = JSON.stringify({ chat_id: chatId, text: fittedHtml(text), parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    await withRetry(
      async () => {
        const answer = await postJson(url, body, LABEL, {}, this.opts.timeoutMs);
        const json = jsonObject(answer.text);
        if (answer.status >= 200 && answer.status < 300 && json?.ok === true) return;
        const detail = typeof json?.description === 'string' ? json.description : answer.text.slice(0, 200);
        const params = json?.parameters;
        const retryAfter = typeof params === 'object' && params !== null ? secondsToMs((params as Record<string, unknown>).retry_after) : undefined;
        // A 2xx without `ok: true` is not the Bot API (a proxy, a wrong URL): final, like any garbled answer.
        if (answer.status >= 200 && answer.status < 300) throw new HalyardError('venue_error', `${LABEL}: HTTP ${answer.status} without ok: true`, { label: LABEL, status: answer.status });
        throw answerError(LABEL, answer, detail, retryAfter);
      },
      { ...this.policy, retryAfterMs: retryAfterOf, label: LABEL },
    );
  }
}
