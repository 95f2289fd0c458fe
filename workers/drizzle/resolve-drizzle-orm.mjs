// npm places drizzle-orm under workers/node_modules while drizzle-kit is hoisted to the root,
// so drizzle-kit's own `import("drizzle-orm/...")` cannot find it. This hook (used only by
// `npm run db:generate`) resolves those imports from the workers package instead.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
      import { createRequire } from 'node:module';
      const req = createRequire(${JSON.stringify(new URL('../package.json', import.meta.url).href)});
      export async function resolve(specifier, context, next) {
        if (specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/')) {
          return next(req.resolve(specifier), context);
        }
        return next(specifier, context);
      }
    `),
);
