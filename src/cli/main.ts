#!/usr/bin/env node
import { runCli } from './program.js';

const code = await runCli(process.argv);
// `serve` and `subscribe` return while their work goes on; they exit through their signal
// handlers. Everything else is done: set the status and let pending output drain.
if (code !== 0) process.exitCode = code;
