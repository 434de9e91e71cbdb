// A hub node of a cluster test: `ssehub serve` on a shared Redis under one key prefix.
import { cliEnv, type ServeProcess, startServe } from './cli-process.js';
import { TEST_SECRET } from './hub-server.js';

/** `ssehub serve` on `redis`, under `prefix`: one node of a cluster. */
export function startNode(
  redisUrl: string,
  prefix: string,
  args: string[] = [],
): Promise<ServeProcess> {
  return startServe(
    ['--no-demo', '--anonymous', '--transport', `${redisUrl}?prefix=${prefix}`, ...args],
    cliEnv({ SSEHUB_JWT_KEY: TEST_SECRET }),
  );
}

/** The hub URL of `node`. */
export const hubOf = (node: ServeProcess) => `${node.url}/.well-known/mercure`;
