// Which webhook URLs a patient may set: http(s) only, no credentials, at most 2048 characters, and
// outside development no loopback, private, link-local or unspecified address written as the host
// (the notifier must not be turned into a probe of the servers next to it). A host name that
// resolves to such an address is not caught here (see decision 015).
import { NotifyError } from './store.ts';

const PRIVATE_V4 = [/^127\./, /^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./, /^0\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./];

function isInternalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return true;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return PRIVATE_V4.some((r) => r.test(host));
  if (host.includes(':')) return host === '::' || host === '::1' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith('::ffff:');
  return false;
}

const isLoopback = (hostname: string) => {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
};

/** The URL, normalised, or a NotifyError saying in words what is wrong with it. */
export function checkWebhookUrl(input: unknown, options: { allowLoopback: boolean }): string {
  if (typeof input !== 'string' || input.trim() === '') throw new NotifyError('WEBHOOK_URL_INVALID', 'A webhook needs a URL');
  if (input.length > 2048) throw new NotifyError('WEBHOOK_URL_INVALID', 'The webhook URL is longer than 2048 characters');
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new NotifyError('WEBHOOK_URL_INVALID', 'The webhook URL is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new NotifyError('WEBHOOK_URL_INVALID', `A webhook URL must be http(s), not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw new NotifyError('WEBHOOK_URL_INVALID', 'A webhook URL must not carry a user name or password (use the signature to authenticate deliveries)');
  if (isInternalHost(url.hostname) && !(options.allowLoopback && isLoopback(url.hostname))) {
    throw new NotifyError(
      'WEBHOOK_URL_INTERNAL',
      options.allowLoopback
        ? `The webhook host ${url.hostname} is a private or link-local address; only loopback is allowed in development`
        : `The webhook host ${url.hostname} is a loopback, private or link-local address; use a public host`,
    );
  }
  url.hash = '';
  return url.toString();
}
