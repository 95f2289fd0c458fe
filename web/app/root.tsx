import type { LinksFunction, MetaFunction } from '@remix-run/node';
import {
  Link,
  Links,
  Meta,
  NavLink,
  Outlet,
  Scripts,
  ScrollRestoration,
  isRouteErrorResponse,
  useLoaderData,
  useRouteError,
} from '@remix-run/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { WagmiProvider } from 'wagmi';
import { ConsentryError } from '@consentry/sdk/errors';
import { WalletMenu } from './components/ConnectWallet.tsx';
import { publicConfig } from './lib/config.server.ts';
import type { PublicConfig } from './lib/public-config.ts';
import { createWagmiConfig } from './lib/wagmi.ts';
import stylesHref from './styles.css?url';

export const meta: MetaFunction = () => [
  { title: 'Consentry' },
  {
    name: 'description',
    content: 'Consentry: patients keep their medical records and decide, provably, who may use them.',
  },
];

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: stylesHref }];

export async function loader(): Promise<PublicConfig> {
  try {
    return publicConfig();
  } catch (err) {
    // A bad environment is the operator's problem; the page still renders and says so.
    const message = err instanceof ConsentryError ? err.message.split('\n')[0]! : 'The server configuration is invalid.';
    return { chainId: 0, rpcUrl: '', contracts: null, problem: message, devAccounts: [], gateways: [], issuerUrl: null, startBlock: 0 };
  }
}

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

function Header({ config }: { config: PublicConfig }) {
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <div className="site-header__inner">
        <Link to="/" className="brand">
          Consentry
        </Link>
        <nav aria-label="Main">
          <ul className="nav">
            <li>
              <NavLink to="/" end>
                About
              </NavLink>
            </li>
            <li>
              <NavLink to="/patient">Patients</NavLink>
            </li>
            <li>
              <NavLink to="/records">My records</NavLink>
            </li>
            <li>
              <NavLink to="/access">Access</NavLink>
            </li>
            <li>
              <NavLink to="/recovery">Recovery</NavLink>
            </li>
            <li>
              <NavLink to="/eligibility">Studies</NavLink>
            </li>
            <li>
              <NavLink to="/research">Research</NavLink>
            </li>
            <li>
              <NavLink to="/irb">IRB</NavLink>
            </li>
            <li>
              <NavLink to="/simulator">Simulator</NavLink>
            </li>
            <li>
              <NavLink to="/organizations">Organisations</NavLink>
            </li>
            <li>
              <NavLink to="/clinician">Clinician</NavLink>
            </li>
            <li>
              <NavLink to="/emergency">Emergency</NavLink>
            </li>
          </ul>
        </nav>
        <WalletMenu config={config} />
      </div>
    </header>
  );
}

export default function App() {
  const config = useLoaderData<typeof loader>();
  // Created once per page load: wagmi and react-query state live in the browser only.
  const [wagmiConfig] = useState(() => createWagmiConfig(config));
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: 1 } } }));
  // Marks the page interactive (tests and scripts wait for it instead of guessing).
  useEffect(() => {
    document.documentElement.dataset.hydrated = 'true';
  }, []);
  return (
    <WagmiProvider config={wagmiConfig}>
      <QueryClientProvider client={queryClient}>
        <Header config={config} />
        {config.problem ? (
          <div className="banner banner--problem" role="alert">
            {config.problem}
          </div>
        ) : null}
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
        <footer className="site-footer">
          <p>
            Chain {config.chainId || 'not configured'}. No health data, names or keys are ever stored on chain or on this
            server.
          </p>
        </footer>
      </QueryClientProvider>
    </WagmiProvider>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  return (
    <main id="main" className="page">
      <h1>{notFound ? 'Page not found' : 'Something went wrong'}</h1>
      <p>
        {notFound
          ? 'There is no page at this address.'
          : 'The page could not be shown. Reload it; if this keeps happening, check that Consentry is running.'}
      </p>
      <p>
        <Link to="/">Back to the start page</Link>
      </p>
    </main>
  );
}
