import type { Redis } from 'ioredis';
import {
  PRESENCE_ADD_LUA,
  PRESENCE_NODES_LUA,
  PRESENCE_REFRESH_LUA,
  PRESENCE_REWRITE_LUA,
  PUBLISH_LUA,
  ROTATE_LUA,
  VIEW_LUA,
} from './scripts.js';

const SCRIPTS = {
  publish: { lua: PUBLISH_LUA, keys: 4 },
  view: { lua: VIEW_LUA, keys: 4 },
  rotate: { lua: ROTATE_LUA, keys: 4 },
  presenceAdd: { lua: PRESENCE_ADD_LUA, keys: 2 },
  presenceRefresh: { lua: PRESENCE_REFRESH_LUA, keys: 2 },
  presenceRewrite: { lua: PRESENCE_REWRITE_LUA, keys: 2 },
  presenceNodes: { lua: PRESENCE_NODES_LUA, keys: 1 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** Runs one of the transport's Lua scripts with its keys and arguments. */
export type ScriptCaller = (
  name: ScriptName,
  keys: readonly string[],
  args: readonly string[],
) => Promise<unknown>;

/**
 * Registers every script on `redis` with `defineCommand` (EVALSHA, falling back to EVAL when
 * the server lost its script cache) and returns a caller for them.
 */
export function defineScripts(redis: Redis): ScriptCaller {
  for (const [name, { lua, keys }] of Object.entries(SCRIPTS)) {
    redis.defineCommand(`ssehub_${name}`, { lua, numberOfKeys: keys });
  }
  const commands = redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>;
  return (name, keys, args) => commands[`ssehub_${name}`]!.call(redis, ...keys, ...args);
}
