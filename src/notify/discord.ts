import type { Clock, Notifier } from '../core/ports.ts';
import { SystemClock } from '../clock.ts';
import { parseRetryAfter, withRetry } from '../exchange/retry.ts';
import { DEFAULT_NOTIFY_POLICY, answerError, jsonObject, postJson, retryAfterOf, secondsToMs, truncate, type HttpAnswer, type NotifyRetryPolicy } from './http.ts';

/** Discord's limit on a message's `content` (characters). */
export const DISCORD_CONTENT_MAX = 2000;

/** One Discord embed (the fields Halyard uses of Discord's embed object). */
export interface DiscordEmbed {
  readonly title?: string;
  readonly description?: string;
  /** RGB as an integer (0x2ecc71 green). */
  readonly color?: number;
  readonly fields?: readonly { readonly name: string; readonly value: string; readonly inline?: boolean }[];
  /** ISO-8601. */
  readonly timestamp?: string;
}

/** What `DiscordNotifier.send` posts: Discord's execute-webhook body. */
export interface DiscordPayload {
  readonly content: string;
  readonly embeds?: readonly DiscordEmbed[];
}

/** Settings of a Discord channel. */
export interface DiscordOptions {
  /** The webhook URL (`https://discord.com/api/webhooks/<id>/<token>`); it is a secret and never logged. */
  readonly url: string;
  readonly policy?: NotifyRetryPolicy;
  /** Clock for the rate-limit bucket (epoch ms; default the system clock). */
  readonly clock?: Clock;
  /** Per request (ms). */
  readonly timeoutMs?: number;
}

const LABEL = 'discord webhook';

/**
 * Posts alerts to a Discord webhook. Network errors, 5xx and 429 are retried by `withRetry`: a 429 waits
 * what Discord asked for (`retry_after` of the body in seconds, else `x-ratelimit-reset-after`, else
 * `retry-after`), capped at the policy's `maxDelayMs`. After an answer that leaves the bucket empty
 * (`x-ratelimit-remaining: 0`) the next message waits for `x-ratelimit-reset-after` first. Any other 4xx
 * (unknown webhook, bad token, bad body) is final: a HalyardError, not retried.
 */
export class DiscordNotifier implements Notifier {
  /** Channel name in outcomes and logs. */
  readonly channel = 'discord';
  private readonly clock: Clock;
  private readonly policy: NotifyRetryPolicy;
  /** Epoch ms before which the bucket is empty. */
  private resumeAt = 0;

  constructor(private readonly opts: DiscordOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.policy = opts.policy ?? DEFAULT_NOTIFY_POLICY;
  }

  /** Sends `message.text` as the message content. */
  async notify(message: { readonly kind: string; readonly text: string }): Promise<void> {
    await this.send({ content: message.text });
  }

  /** Sends one message (content cut to 2,000 characters, at most 10 embeds, mentions disabled). */
  async send(payload: DiscordPayload): Promise<void> {
    const body = JSON.stringify({
      content: truncate(payload.content, DISCORD_CONTENT_MAX),
      ...(payload.embeds && payload.embeds.length > 0 ? { embeds: payload.embeds.slice(0, 10) } : {}),
      // A strategy name or an error text must never ping @everyone.
      allowed_mentions: { parse: [] },
    });
    await withRetry(
      async () => {
        await this.waitForBucket();
        const answer = await postJson(this.opts.url, body, LABEL, {}, this.opts.timeoutMs);
        if (answer.status >= 200 && answer.status < 300) {
          this.noteBucket(answer);
          return;
        }
        const json = jsonObject(answer.text);
        const detail = typeof json?.message === 'string' ? json.message : answer.text.slice(0, 200);
        throw answerError(LABEL, answer, detail, answer.status === 429 ? this.rateLimitWaitMs(answer, json) : undefined);
      },
      { ...this.policy, retryAfterMs: retryAfterOf, label: LABEL },
    );
  }

  private rateLimitWaitMs(answer: HttpAnswer, json: Readonly<Record<string, unknown>> | undefined): number | undefined {
    return secondsToMs(json?.retry_after) ?? secondsToMs(answer.headers.get('x-ratelimit-reset-after')) ?? parseRetryAfter(answer.headers.get('retry-after') ?? undefined, this.clock.now());
  }

  private noteBucket(answer: HttpAnswer): void {
    if (answer.headers.get('x-ratelimit-remaining') !== '0') return;
    const wait = secondsToMs(answer.headers.get('x-ratelimit-reset-after'));
    if (wait !== undefined) this.resumeAt = this.clock.now() + wait;
  }

  private async waitForBucket(): Promise<void> {
    const wait = Math.min(this.policy.maxDelayMs, this.resumeAt - this.clock.now());
    if (wait <= 0) return;
    const sleep = this.policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    await sleep(wait);
    this.resumeAt = 0;
  }
}
