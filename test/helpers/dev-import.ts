import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Imports a devDependency through CommonJS resolution, which honours NODE_PATH where ESM's does
 * not: a test can run against a scratch install before `npm install` puts the package in
 * node_modules. The caller states the few types it uses, so type-checking needs no install either.
 */
export async function importDev<T>(specifier: string): Promise<T> {
  const path = createRequire(import.meta.url).resolve(specifier);
  return (await import(pathToFileURL(path).href)) as T;
}
