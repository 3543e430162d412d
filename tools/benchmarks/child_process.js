// Node's child_process for tools/bench: the same modes and output as
// floor.c (see there), written the way a Node user would, with events.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

// CLOCK_MONOTONIC (libuv's hrtime), as stamp.c writes.
const nowUs = () => Number(process.hrtime.bigint()) / 1e3;

// Spawns cmd and calls done() once it exited 0.
function run(cmd, done, stdio = 'inherit') {
  const p = spawn(cmd[0], cmd.slice(1), { stdio });
  p.on('exit', (code) => {
    if (code !== 0) throw new Error('child failed');
    done();
  });
  return p;
}

const modes = {
  spawn(n, cmd) {
    let i = 0;
    let t0;
    const next = () => {
      if (t0 !== undefined) console.log((nowUs() - t0).toFixed(1));
      if (++i > n) return;
      t0 = nowUs();
      run(cmd, next);
    };
    next();
  },

  many(n, cmd) {
    const t0 = nowUs();
    let left = n;
    for (let i = 0; i < n; i++) {
      run(cmd, () => {
        if (--left === 0) console.log(((nowUs() - t0) / 1e3).toFixed(1));
      });
    }
  },

  // Node reads a pipe in chunks of up to 64 KiB.
  read(cmd) {
    const t0 = nowUs();
    let total = 0;
    const p = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 2] });
    p.stdout.on('data', (b) => { total += b.length; });
    p.on('close', (code) => {
      if (code !== 0) throw new Error('child failed');
      console.log((total / ((nowUs() - t0) * 1e3)).toFixed(3));
      if (total !== 2 ** 30) console.error(`read ${total} bytes`);
    });
  },

  exit(n, cmd) {
    let i = 0;
    const next = () => {
      if (++i > n) return;
      run(cmd, () => {
        const t = nowUs();
        const stamp = Number(fs.readFileSync(cmd[1], 'utf8'));
        console.log((t - stamp / 1e3).toFixed(1));
        next();
      });
    };
    next();
  },
};

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'read') modes.read(rest);
else modes[mode](Number(rest[0]), rest.slice(1));
