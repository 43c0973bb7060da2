import { execFile } from 'node:child_process';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of a command that must behave as in a user's fresh project: without tap's
 * loader (NODE_OPTIONS) and without the settings `npm test`/`npx` pass down about THIS repository
 * (its prefix, its workspaces), which would point npm back at the repository.
 */
export function projectEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('npm_package_') || key.startsWith('npm_lifecycle_')) continue;
    if (/^npm_config_(local_prefix|prefix|workspace|workspaces|include_workspace_root|call|global)$/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/**
 * Runs a command to its end and reports its exit code and output; never throws for a non-zero
 * exit, so that a test can show what the command said. `timeoutMs` kills a hung command.
 */
export function runCommand(file: string, args: readonly string[], options: { cwd: string; timeoutMs: number }): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: projectEnv(),
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr: error && code === null ? `${stderr}\n${error.message}` : stderr });
      },
    );
  });
}
