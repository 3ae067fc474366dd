import { afterEach, describe, expect, it } from 'vitest';
import { cliName, maskPassword, setInvocation } from './cli-name.js';

describe('hints: where the options stand, and the password', () => {
  afterEach(() => setInvocation([]));
  const env = { PATH: '', npm_config_user_agent: 'pnpm/12' };

  it('masks a URL password, as userinfo or as a password= parameter, and leaves the rest as typed', () => {
    expect(maskPassword('postgres://lakesoul:secret@db:5432/lake')).toBe('postgres://lakesoul:***@db:5432/lake');
    expect(maskPassword('postgresql://u:p@ss:w@rd@db/lake?sslmode=require')).toBe('postgresql://u:***@db/lake?sslmode=require');
    expect(maskPassword('jdbc:postgresql://db:5432/lake?user=u&password=s3&sslmode=require')).toBe('jdbc:postgresql://db:5432/lake?user=u&password=***&sslmode=require');
    expect(maskPassword('jdbc:postgresql://u:s3@db/lake?PASSWORD=x')).toBe('jdbc:postgresql://u:***@db/lake?PASSWORD=***');
    for (const plain of ['postgres://u@db:5432/lake', 'postgres://db:5432/lake?x=a@b', './my lake', 's3://bucket/wh']) expect(maskPassword(plain)).toBe(plain);
  });

  it('reads the location options anywhere up to --, in both spellings, with the password masked', () => {
    setInvocation(['scan', 't', '--filter', 'id > 0', '--home=h', '-q', '--catalog', 'postgres://u:pw@db/l', '--pg-password', 'pw', '--', '--config', 'x']);
    expect(cliName(env)).toBe("pnpm lakesoul-ts --home h --catalog 'postgres://u:***@db/l'");
  });
});
