import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's Chromium, headless, with everything that would phone home switched off. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/**
 * Runs `fn` in a fresh browser context. On failure it saves a full-page screenshot into
 * `shotsDir` and names it in the error, then rethrows; the context is always closed.
 */
export async function withPage<T>(
  browser: Browser,
  shotsDir: string,
  name: string,
  fn: (page: Page) => Promise<T>,
  options: BrowserContextOptions = DESKTOP,
): Promise<T> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  try {
    return await fn(page);
  } catch (err) {
    mkdirSync(shotsDir, { recursive: true });
    const file = join(shotsDir, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
    const saved = await page
      .screenshot({ path: file, fullPage: true })
      .then(() => true)
      .catch(() => false);
    if (err instanceof Error) {
      err.message += saved ? `\n  screenshot: ${file}` : '\n  (no screenshot: the page was gone)';
      if (consoleErrors.length) err.message += `\n  browser console errors:\n    ${consoleErrors.slice(-5).join('\n    ')}`;
    }
    throw err;
  } finally {
    await context.close();
  }
}

/** Waits until React has hydrated the page (root.tsx sets data-hydrated on <html>). */
export async function gotoHydrated(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 30_000 });
}

/** Connects development account `index` through the connect panel and waits until it is connected. */
export async function connectDevAccount(page: Page, index: number): Promise<void> {
  await page.getByLabel('Account', { exact: true }).selectOption(`dev-account-${index}`);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await page.getByTestId('wallet-connected').waitFor({ timeout: 15_000 });
}
