// Entry of the browser bundle (dist/browser/ssehub-client.js): the whole client, nothing of Node.
export * from './index.js';
