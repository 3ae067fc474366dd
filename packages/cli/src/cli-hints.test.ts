import { afterEach, describe, expect, it } from 'vitest';
import { LakeSoulError } from '@lakesoul-ts/meta';
import { cliName, maskPassword, setInvocation } from './cli-name.js';
import { errorMessage } from './commands.js';
import { CATALOG_SERVER_ROLE } from './catalog-daemon.js';

describe('hints: where the options stand, and the password', () => {
  afterEach(() => setInvocation([]));
  const env = { PATH: '', npm_config_user_agent: 'pnpm/12' };

  it('masks a URL password, as userinfo or as a password= parameter, and leaves the rest as typed', () => {
    expect(maskPassword('postgres://lakesoul:secret@db:5432/lake')).toBe('postgres://lakesoul:***@db:5432/lake');
    expect(maskPassword('postgresql://u:p@ss:w@rd@db/lake?sslmode=require')).toBe('postgresql://u:***@db/lake?sslmode=require');
    expect(maskPassword('jdbc:postgresql://db:5432/lake?user=u&password=s3&sslmode=require')).toBe('jdbc:postgresql://db:5432/lake?user=u&password=***&sslmode=require');
    expect(maskPassword('jdbc:postgresql://u:s3@db/lake?PASSWORD=x')).toBe('jdbc:postgresql://u:***@db/lake?PASSWORD=***');
    // a raw '/', '?' or '#' in the password, and libpq's sslpassword
    expect(maskPassword('postgres://u:pa/ss@db/lake')).toBe('postgres://u:***@db/lake');
    expect(maskPassword('postgres://u:p?w#1@db:5432/lake')).toBe('postgres://u:***@db:5432/lake');
    expect(maskPassword('postgres://u@db/lake?sslpassword=key&sslmode=verify-full')).toBe('postgres://u@db/lake?sslpassword=***&sslmode=verify-full');
    for (const plain of ['postgres://u@db:5432/lake', 'postgres://db:5432/lake?x=a@b', 'postgres://db:5432', './my lake', 's3://bucket/wh', 's3://bucket/a@b', 'file:///x:y@z']) expect(maskPassword(plain)).toBe(plain);
  });

  it('reads the location options anywhere up to --, in both spellings, with the password masked', () => {
    setInvocation(['scan', 't', '--filter', 'id > 0', '--home=h', '-q', '--catalog', 'postgres://u:pw@db/l', '--pg-password', 'pw', '--', '--config', 'x']);
    expect(cliName(env)).toBe("pnpm lakesoul-ts --home h --catalog 'postgres://u:***@db/l'");
  });

  it("names the CLI's own stop command for its background catalog server that hangs, and leaves other errors as they are", () => {
    setInvocation(['ns', 'list', '--home', 'my home']);
    const remedy = 'If you suspended it (Ctrl-Z, SIGSTOP), resume it (fg, or `kill -CONT 7`); otherwise stop it (`kill -9 7`) and try again: the next process to open the catalog serves it itself';
    const hung = (role: string) => new LakeSoulError('Catalog', `the catalog server of /h/catalog (served by process 7) does not answer. ${remedy}`,
      { code: 'CATALOG_UNAVAILABLE', context: { pid: 7, role, serverUnresponsive: true, remedy } });
    const shown = errorMessage(hung(CATALOG_SERVER_ROLE));
    expect(shown).toMatch(/^the catalog server of \/h\/catalog \(served by process 7\) does not answer\. If you suspended it .*resume it \(fg, kill -CONT\), e\.g\. `kill -CONT 7`; otherwise stop it: `.* --home 'my home' catalog-server --stop` \(or `kill -9 7` when that does not stop it\)/);
    expect(shown).not.toContain(remedy);
    // `serve`, `ui` or a program's server: --stop would refuse it, the library's way out stays
    expect(errorMessage(hung('lakesoul-ts serve'))).toContain(remedy);
    expect(errorMessage(new Error('x'))).toBe('x');
  });
});
