import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { REPO_ROOT } from '@consentry/sdk/config';

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

/**
 * A journey's step runner: on failure it saves a full-page screenshot as `<prefix>-<step>.png` in
 * `shotsDir`, names it in the error, and rethrows.
 */
export function journeySteps(prefix: string, shotsDir: string) {
  return async function step<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const file = join(shotsDir, `${prefix}-${name}.png`.replace(/[^a-z0-9.-]+/gi, '-'));
      const saved = await page.screenshot({ path: file, fullPage: true }).then(() => true, () => false);
      if (err instanceof Error) err.message += `\n  step: ${name}\n  screenshot: ${saved ? file : '(none)'}`;
      throw err;
    }
  };
}

/**
 * One person's own browser context (own storage, own wallet connection) with downloads allowed;
 * its page errors are printed under `name`. With `assets`, the web build's client assets are served
 * from that folder (a copy taken when the stack started: see pinBuildAssets).
 */
export async function openPage(browser: Browser, contexts: BrowserContext[], name: string, { options = DESKTOP, assets, webUrl }: { options?: BrowserContextOptions; assets?: string; webUrl?: string } = {}): Promise<Page> {
  const context = await browser.newContext({ ...options, acceptDownloads: true });
  contexts.push(context);
  if (assets && webUrl) {
    await context.route(`${webUrl}/assets/**`, async (route) => {
      const file = join(assets, new URL(route.request().url()).pathname.replace(/^\/assets\//, ''));
      if (existsSync(file)) await route.fulfill({ path: file });
      else await route.continue();
    });
  }
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] ${e.message}`));
  return page;
}

/**
 * Copies the client assets of the web build the server just loaded into `into`, so that pages
 * loaded later still find theirs when other work in the same checkout rebuilds web/build meanwhile.
 */
export function pinBuildAssets(into: string): string {
  const assets = join(into, 'assets');
  cpSync(join(REPO_ROOT, 'web', 'build', 'client', 'assets'), assets, { recursive: true });
  return assets;
}

/** axe-core in the page (WCAG 2.1 A/AA and best practice): its serious and critical violations, as "rule (impact): targets" lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const r = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.targets.slice(0, 3).join(', ')}`);
}
