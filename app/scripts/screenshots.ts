// Takes the README screenshots of the workbench with LaneOS booted (dark and light theme):
//   node --import tsx app/scripts/screenshots.ts   → resources/screenshots/workbench-{dark,light}.png
import path from 'node:path';
import fs from 'node:fs';
import { buildApp, consoleText, copyProject, openSession, repo, waitForText } from '../test/e2e/harness.js';

const out = path.join(repo, 'resources/screenshots');
fs.mkdirSync(out, { recursive: true });
buildApp();
const project = copyProject(path.join(repo, 'os'));
const s = await openSession(project);
const p = s.page;
try {
  await p.click('#tree [data-path="kernel"]');
  await p.click('#tree [data-path="kernel/generic"]');
  await p.click('#tree [data-path="kernel/generic/main.c"]');
  await p.waitForSelector('.tab.active[data-path="kernel/generic/main.c"]');
  await p.keyboard.press('F5');
  await waitForText(p, consoleText, /lanes\$ /, 900000, 'the prompt');
  await p.click('#panel-console .xterm-screen');
  for (const cmd of ['uname', 'ps']) {
    await p.keyboard.type(`${cmd}\r`);
    await p.waitForTimeout(1500);
  }
  await p.waitForTimeout(1000);
  await p.screenshot({ path: path.join(out, 'workbench-dark.png') });
  await p.click('#btn-theme');
  await p.waitForTimeout(800);
  await p.screenshot({ path: path.join(out, 'workbench-light.png') });
  await p.click('#btn-theme');
  await p.keyboard.press('Shift+F5');
  await waitForText(p, async (pg) => (await pg.textContent('#status-state')) ?? '', /^stopped$/, 30000, 'stopped');
  console.log(`screenshots written to ${out}`);
} finally {
  await s.close();
}
