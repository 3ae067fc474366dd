/**
 * The retry strategy of an {@link S3Store}'s client: every request gets its full attempt budget.
 *
 * The SDK's standard strategy keeps a retry quota per client (a token bucket: each retry takes
 * tokens, a success gives some back); after a burst of failures it is empty and a failing request is
 * not retried at all until successes refill it. A probe saw a 503 tried once, not three times, after
 * a burst of S3 errors on one store. This strategy has no quota: each request is retried on its own
 * terms, with exponential backoff and full jitter spreading the retries of many requests over time.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** The SDK's `RetryStrategyV2` interface (`@smithy/types`), as the S3 client's config takes it. */
type RetryStrategyV2 = Extract<NonNullable<S3ClientConfig['retryStrategy']>, { acquireInitialRetryToken: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

/** Backoff base of a retry after a transient failure (5xx, a timeout, a reset), ms: the SDK's value. */
const TRANSIENT_DELAY_BASE_MS = 100;
/** Backoff base of a retry after throttling (`SlowDown`, 429), ms: the SDK's value. */
const THROTTLING_DELAY_BASE_MS = 500;
/** No retry waits longer than this, ms (the SDK's cap too). */
const MAX_RETRY_DELAY_MS = 20_000;

/** A retry token: how many retries were made, and how long to wait before the next attempt. */
class S3RetryToken implements RetryToken {
  constructor(
    private readonly retries: number,
    private readonly delayMs: number,
  ) {}

  getRetryCount(): number {
    return this.retries;
  }

  getRetryDelay(): number {
    return this.delayMs;
  }
}

/**
 * A `RetryStrategyV2` for the AWS SDK without the standard strategy's client-wide retry quota: a
 * request whose failure is retryable is attempted up to `maxAttempts` times, whatever other requests
 * of the client met before.
 *
 * Which failures are retryable is the SDK's own classification, made by its retry middleware with
 * the helpers of its error classification and handed over as `errorType`: `THROTTLING` (429,
 * `SlowDown` and the other throttling codes) and `TRANSIENT` (HTTP 500, 502, 503, 504, timeouts,
 * connection resets and refusals, a corrected clock skew) are retried, as by the standard strategy;
 * `SERVER_ERROR` (another 5xx) and `CLIENT_ERROR` are not. The wait before retry n (1, 2, ...) is a
 * random time up to `base * 2^(n-1)` ms (100 ms base, 500 ms after throttling, at most 20 s), or
 * longer when the server's `Retry-After` asks for it (still at most 20 s). The SDK's retry middleware
 * does the waiting, abortably. (It implements the SDK's `RetryStrategyV2`: the client's config,
 * where it is given, checks that.)
 */
export class S3RetryStrategy {
  /**
   * @param maxAttempts - attempts per request, the first one included (a positive integer).
   * @param random - the source of jitter in [0, 1) (a test can fix it).
   */
  constructor(
    readonly maxAttempts: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The token of a request's first attempt: no retries made, no wait. */
  async acquireInitialRetryToken(_retryTokenScope: string): Promise<RetryToken> {
    return new S3RetryToken(0, 0);
  }

  /**
   * The token of the next attempt after a failure, or a rejection when the failure is not retryable
   * or the request had its `maxAttempts` (the SDK then throws the request's own error).
   */
  async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const retryable = errorInfo.errorType === 'THROTTLING' || errorInfo.errorType === 'TRANSIENT';
    const retries = token.getRetryCount();
    if (!retryable || retries + 1 >= this.maxAttempts) throw new Error('no retry: the failure is not retryable or the request had its attempts');
    const base = errorInfo.errorType === 'THROTTLING' ? THROTTLING_DELAY_BASE_MS : TRANSIENT_DELAY_BASE_MS;
    let delay = Math.floor(this.random() * Math.min(MAX_RETRY_DELAY_MS, base * 2 ** retries));
    if (errorInfo.retryAfterHint instanceof Date) delay = Math.max(delay, Math.min(MAX_RETRY_DELAY_MS, errorInfo.retryAfterHint.getTime() - Date.now()));
    return new S3RetryToken(retries + 1, delay);
  }

  /** Nothing to record: there is no quota to refill. */
  recordSuccess(_token: RetryToken): void {}
}
