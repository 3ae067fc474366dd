import { afterEach, describe, expect, it } from 'vitest';
import { cliCommand, cliName, setInvocation, shellWord } from './cli-name.js';

describe('how hints spell the command', () => {
  afterEach(() => setInvocation([]));
  const bare = { PATH: '' };

  it('as the person started it: pnpm, npx / npm exec, else node and the entry point', () => {
    expect(cliCommand({ ...bare, npm_config_user_agent: 'pnpm/12.4.2 npm/? node/v20.20.2 linux x64' })).toBe('pnpm lakesoul-ts');
    expect(cliCommand({ ...bare, npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false', npm_command: 'exec' })).toBe('npx lakesoul-ts');
    // an npm script is not an npx call: its PATH is the script's, so the entry point is named
    expect(cliCommand({ ...bare, npm_config_user_agent: 'npm/11.19.1 node/v20.20.2', npm_command: 'run-script' })).toMatch(/^node \S*bin\.js$/);
  });

  it("repeats this run's location options in cliName, not in cliCommand", () => {
    setInvocation(['--home', './my lake', '--quiet', '--catalog=postgres://u@h/db', '--pg-password', 'secret', 'table', 'list']);
    const env = { ...bare, npm_config_user_agent: 'pnpm/12' };
    expect(cliName(env)).toBe("pnpm lakesoul-ts --home './my lake' --catalog postgres://u@h/db");
    expect(cliCommand(env)).toBe('pnpm lakesoul-ts');
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
  });
});
