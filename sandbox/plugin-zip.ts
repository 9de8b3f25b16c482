/** The built plugin the sandbox's kintone page runs: dist/plugin.zip, built first when missing. */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const PLUGIN_ZIP = path.join(REPO_ROOT, "dist", "plugin.zip");

/** Runs `npm run build` in the checkout; its output goes to `log` line by line. */
function runBuild(log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "build", "--silent"], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32",
    });
    let tail = "";
    const onData = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) {
        resolve();
        return;
      }
      for (const line of tail.trim().split("\n")) log(`  ${line}`);
      reject(new Error(`npm run build failed (exit ${code})`));
    });
  });
}

export async function loadPluginZip(log: (line: string) => void, zipPath: string = PLUGIN_ZIP): Promise<Buffer> {
  if (!existsSync(zipPath)) {
    log(`Building the plugin first (${zipPath === PLUGIN_ZIP ? "dist/plugin.zip" : zipPath} is missing): npm run build ...`);
    const started = Date.now();
    await runBuild(log);
    log(`Plugin built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
  return readFileSync(zipPath);
}
