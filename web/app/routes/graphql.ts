import type { ActionFunctionArgs } from '@remix-run/node';
import { serverConfig } from '../lib/config.server.ts';
import { proxyGraphql } from '../lib/graphql-proxy.server.ts';

// A resource route: POST /graphql is forwarded to the index the server is configured with.

export async function loader({ request }: { request: Request }) {
  return proxyGraphql(request, serverConfig().config.graphqlUrl);
}

export async function action({ request }: ActionFunctionArgs) {
  return proxyGraphql(request, serverConfig().config.graphqlUrl);
}
