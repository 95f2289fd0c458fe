/// <reference types="vite/client" />
import '@remix-run/node';

// Single fetch: loaders and actions return plain data (see vite.config.ts, future flags).
declare module '@remix-run/node' {
  interface Future {
    v3_singleFetch: true;
  }
}
