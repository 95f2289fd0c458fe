import { describe, expect, it } from 'vitest';
import { checkWebhookUrl } from './webhook-url.ts';

describe('webhook URLs', () => {
  it('takes http(s) URLs and drops the fragment', () => {
    expect(checkWebhookUrl('https://hooks.example.org/consentry?t=1#x', { allowLoopback: false })).toBe('https://hooks.example.org/consentry?t=1');
    expect(checkWebhookUrl(' http://127.0.0.1:8080/hook ', { allowLoopback: true })).toBe('http://127.0.0.1:8080/hook');
    expect(checkWebhookUrl('http://[::1]:9/h', { allowLoopback: true })).toBe('http://[::1]:9/h');
  });

  it('refuses other schemes, credentials and non-URLs, in words', () => {
    expect(() => checkWebhookUrl('ftp://example.org/x', { allowLoopback: true })).toThrow(/must be http\(s\), not ftp/);
    expect(() => checkWebhookUrl('javascript:alert(1)', { allowLoopback: true })).toThrow(/must be http\(s\)/);
    expect(() => checkWebhookUrl('https://user:pw@example.org/', { allowLoopback: true })).toThrow(/user name or password/);
    expect(() => checkWebhookUrl('not a url', { allowLoopback: true })).toThrow(/not a URL/);
    expect(() => checkWebhookUrl('', { allowLoopback: true })).toThrow(/needs a URL/);
    expect(() => checkWebhookUrl(`https://example.org/${'a'.repeat(2048)}`, { allowLoopback: true })).toThrow(/longer than 2048/);
  });

  it('refuses loopback outside development, and private or link-local hosts always', () => {
    for (const url of ['http://127.0.0.1/h', 'http://localhost:3000/', 'http://[::1]/']) {
      expect(() => checkWebhookUrl(url, { allowLoopback: false })).toThrow(/use a public host/);
    }
    for (const url of ['http://10.0.0.5/', 'http://192.168.1.1/', 'http://172.20.0.1/', 'http://169.254.169.254/latest/meta-data', 'http://[fd00::1]/', 'http://0.0.0.0/', 'http://db.internal/']) {
      expect(() => checkWebhookUrl(url, { allowLoopback: true })).toThrow(/only loopback is allowed in development/);
    }
    expect(checkWebhookUrl('http://172.32.0.1/', { allowLoopback: false })).toBe('http://172.32.0.1/');
  });
});
