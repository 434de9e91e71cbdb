#!/usr/bin/env node
import { selfHandledStreams } from './io.js';
import { runCli } from './program.js';

// `ssehub subscribe … | head` closes the pipe early: that is the reader being done, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (selfHandledStreams.has(stream)) return;
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await runCli(process.argv);
// `serve` and `subscribe` return while their work goes on; they exit through their signal
// handlers. Everything else is done: set the status and let pending output drain.
if (code !== 0) process.exitCode = code;
