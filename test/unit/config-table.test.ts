// The settings table (src/config/settings-table.ts) is the one place each
// setting of `lapis serve` is written: README.md's table, --help, the
// environment and the defaults all come from it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { addSettingOptions, givenFlags } from '../../src/cli/settings-options.js';
import { DEV_ACCOUNT, DEV_STORAGE, defaultConfig, resolveSettings, scrubSecretEnvironment, SECRET_ENVIRONMENT, SETTINGS } from '../../src/config/config.js';
import { README_END, README_START, withSettingsTable } from '../../src/config/settings-docs.js';

const README = fs.readFileSync(path.resolve('README.md'), 'utf8');

/** The rows of README.md's settings table: the flags of the first column, the variables of the second. */
function readmeRows(): { flags: string[]; envs: string[] }[] {
  const section = README.slice(README.indexOf(README_START) + README_START.length, README.indexOf(README_END));
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line) && !line.startsWith('| flag |'))
    .map((line) => {
      const cells = line.split(/(?<!\\)\|/).slice(1, -1);
      return { flags: cells[0]?.match(/--[a-z-]+/g) ?? [], envs: cells[1]?.match(/LAPIS_[A-Z_]+/g) ?? [] };
    });
}

describe("README.md's settings table", () => {
  test('lists exactly the flags and variables of the settings table, one row per setting', () => {
    assert.ok(README.includes(README_START) && README.includes(README_END), 'README.md has the settings-table markers');
    const shown = SETTINGS.filter((entry) => !entry.hidden);
    const rows = readmeRows();
    assert.equal(rows.length, shown.length);
    const sorted = (values: string[]) => [...values].sort();
    assert.deepEqual(
      sorted(rows.flatMap((row) => row.flags)),
      sorted(shown.flatMap((entry) => (entry.flag ? [entry.flag.split(' ')[0] as string] : []))),
    );
    assert.deepEqual(sorted(rows.flatMap((row) => row.envs)), sorted(shown.flatMap((entry) => (entry.env ? [entry.env] : []))));
  });

  test('is what `npm run docs:config` writes', () => {
    assert.equal(README, withSettingsTable(README), 'README.md is out of step with src/config/settings-table.ts: run npm run docs:config');
  });

  test('hides the retired --task-user, and no secret default is written', () => {
    assert.ok(!README.includes('--task-user <'));
    assert.ok(!/LAPIS_TASK_USER/.test(README.slice(README.indexOf(README_START), README.indexOf(README_END))));
    const table = README.slice(README.indexOf(README_START), README.indexOf(README_END));
    assert.ok(!table.includes(DEV_ACCOUNT.key) && !table.includes(DEV_STORAGE.accountKey));
  });
});

describe('the settings table', () => {
  test('every flag and variable appears once', () => {
    const flags = SETTINGS.flatMap((entry) => (entry.flag ? [entry.flag.split(' ')[0]] : []));
    const envs = SETTINGS.flatMap((entry) => (entry.env ? [entry.env] : []));
    assert.equal(new Set(flags).size, flags.length);
    assert.equal(new Set(envs).size, envs.length);
    assert.ok(envs.every((env) => env.startsWith('LAPIS_')));
  });

  test('defaults give the configuration Lapis has always started with', () => {
    assert.deepEqual(defaultConfig(), {
      host: '127.0.0.1',
      port: 10100,
      blob: { port: 10000, accountName: DEV_STORAGE.accountName, accountKey: DEV_STORAGE.accountKey },
      dataDir: '.lapis',
      inMemory: false,
      accounts: [DEV_ACCOUNT],
      logLevel: 'info',
      autoScaleMinIntervalMs: 5 * 60_000,
      nodeHeartbeatTimeoutMs: 5_000,
      requestTimeoutMs: 30_000,
      adminTasks: 'allow',
      faults: false,
      nodeRuntime: 'process',
      containers: 'engine',
      azureHostnames: false,
      azureRegion: 'local',
    });
    assert.equal(resolveSettings().process.heapGrowingPercent, 50);
  });

  test('the secret variables are the account and storage keys, and scrubbing removes them only', () => {
    assert.deepEqual([...SECRET_ENVIRONMENT].sort(), ['LAPIS_ACCOUNTS', 'LAPIS_STORAGE_KEY']);
    const env: NodeJS.ProcessEnv = { LAPIS_ACCOUNTS: 'x', LAPIS_STORAGE_KEY: 'y', LAPIS_PORT: '1' };
    scrubSecretEnvironment(env);
    assert.deepEqual(env, { LAPIS_PORT: '1' });
  });
});

describe('precedence: defaults, then the environment, then flags', () => {
  test('the environment overrides a default and a flag overrides the environment', () => {
    const env = { LAPIS_PORT: '2000', LAPIS_HOST: '0.0.0.0', LAPIS_NODE_HEARTBEAT_TIMEOUT: 'PT10S', LAPIS_ADMIN_TASKS: 'REFUSE', LAPIS_HEAP_GROWING_PERCENT: '25' };
    const { config, process: processSettings } = resolveSettings(env, { '--port': '3000', '--request-timeout': 'PT1.5S', '--heap-growing-percent': '0' });
    assert.equal(config.port, 3000, 'the flag wins');
    assert.equal(config.host, '0.0.0.0', 'the environment beats the default');
    assert.equal(config.nodeHeartbeatTimeoutMs, 10_000);
    assert.equal(config.requestTimeoutMs, 1_500);
    assert.equal(config.adminTasks, 'refuse');
    assert.equal(config.blob.port, 10000, 'the default stands');
    assert.equal(processSettings.heapGrowingPercent, 0);
  });

  test('an empty variable counts as not set', () => {
    assert.equal(resolveSettings({ LAPIS_PORT: '' }).config.port, 10100);
  });

  test('nested settings: storage account and key, the external endpoint, TLS together', () => {
    const { config } = resolveSettings(
      { LAPIS_STORAGE_ACCOUNT: 'envstore', LAPIS_STORAGE_KEY: 'ZW52a2V5' },
      { '--storage-account': 'flagstore', '--blob-endpoint': 'http://blob.example', '--cert': 'c.pem', '--key': 'k.pem', '--in-memory': true },
    );
    assert.deepEqual(config.blob, { port: 10000, externalEndpoint: 'http://blob.example', accountName: 'flagstore', accountKey: 'ZW52a2V5' });
    assert.deepEqual(config.tls, { certFile: 'c.pem', keyFile: 'k.pem' });
    assert.equal(config.inMemory, true);
    assert.throws(() => resolveSettings({}, { '--cert': 'c.pem' }), /^Error: --cert and --key go together\.$/);
  });

  test('Azure host names: a region label, a blob address, and no --cert beside them', () => {
    const { config } = resolveSettings({ LAPIS_AZURE_HOSTNAMES: 'true' }, { '--azure-region': 'WestEurope', '--blob-host': '127.0.0.2' });
    assert.equal(config.azureHostnames, true);
    assert.equal(config.azureRegion, 'westeurope');
    assert.equal(config.blob.host, '127.0.0.2');
    assert.throws(() => resolveSettings({}, { '--azure-region': 'west.europe' }), /--azure-region must be one host name label/);
    assert.throws(
      () => resolveSettings({}, { '--azure-hostnames': true, '--cert': 'c.pem', '--key': 'k.pem' }),
      /^Error: --azure-hostnames serves a certificate of its own local CA: leave out --cert and --key\.$/,
    );
    assert.throws(() => resolveSettings({}, { '--azure-hostnames': true, '--host': '0.0.0.0' }), /--azure-hostnames listens on loopback addresses only/);
    assert.equal(resolveSettings({}, { '--azure-hostnames': true, '--blob-host': '127.0.0.2' }).config.blob.host, '127.0.0.2');
  });

  test('accounts: LAPIS_ACCOUNTS, --account (repeatable) over it, one way per layer', () => {
    const alpha = `alpha:${Buffer.alloc(32, 1).toString('base64')}`;
    const beta = `beta:${Buffer.alloc(32, 2).toString('base64')}`;
    assert.deepEqual(
      resolveSettings({ LAPIS_ACCOUNTS: `${alpha};${beta}` }).config.accounts.map((account) => account.name),
      ['alpha', 'beta'],
    );
    const flagged = resolveSettings({ LAPIS_ACCOUNTS: alpha }, { '--account': [beta, `gamma:${Buffer.alloc(16, 3).toString('base64')}`] });
    assert.deepEqual(flagged.config.accounts.map((account) => account.name), ['beta', 'gamma']);
    assert.throws(() => resolveSettings({}, { '--account': [alpha, alpha] }), /The account 'alpha' is given twice in --account\./);
    assert.throws(() => resolveSettings({ LAPIS_ACCOUNTS: `${alpha};${alpha}` }), /The account 'alpha' is given twice in LAPIS_ACCOUNTS\./);
    assert.throws(() => resolveSettings({ LAPIS_ACCOUNTS: alpha, LAPIS_ACCOUNTS_FILE: '/nowhere' }), /^Error: Give the accounts one way: LAPIS_ACCOUNTS_FILE or LAPIS_ACCOUNTS, not both\.$/);
    assert.throws(() => resolveSettings({}, { '--accounts-file': '/nowhere', '--account': [alpha] }), /^Error: Give the accounts one way: --accounts-file or --account, not both\.$/);
  });

  test('an accounts file, from the flag or the variable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-config-'));
    try {
      const file = path.join(dir, 'accounts');
      fs.writeFileSync(file, `# ours\ndelta:${Buffer.alloc(32, 4).toString('base64')}\n`, { mode: 0o600 });
      assert.deepEqual(resolveSettings({}, { '--accounts-file': file }).config.accounts.map((account) => account.name), ['delta']);
      assert.deepEqual(resolveSettings({ LAPIS_ACCOUNTS_FILE: file }).config.accounts.map((account) => account.name), ['delta']);
      fs.chmodSync(file, 0o644);
      assert.throws(() => resolveSettings({ LAPIS_ACCOUNTS_FILE: file }), /has mode 0644/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('warnings: keys on the command line and the retired --task-user, never a key', () => {
    const alpha = `alpha:${Buffer.alloc(32, 1).toString('base64')}`;
    assert.deepEqual(resolveSettings({ LAPIS_STORAGE_KEY: 'a2V5' }).warnings, []);
    const warned = resolveSettings({}, { '--account': [alpha], '--storage-key': 'a2V5', '--task-user': 'nobody' }).warnings;
    assert.equal(warned.length, 3);
    assert.ok(warned.some((warning) => warning.startsWith('--account puts account keys on the command line')));
    assert.ok(warned.some((warning) => warning.startsWith('--storage-key puts the storage key on the command line')));
    assert.ok(warned.some((warning) => warning.startsWith('--task-user (LAPIS_TASK_USER) is no longer used')));
    assert.ok(warned.every((warning) => !warning.includes(alpha.split(':')[1] as string)));
    assert.deepEqual(resolveSettings({ LAPIS_TASK_USER: 'nobody' }).warnings.length, 1);
  });
});

describe("a bad value's error names the flag or variable and the expected form", () => {
  const cases: [NodeJS.ProcessEnv, Record<string, string>, RegExp][] = [
    [{}, { '--port': 'x' }, /^--port must be a port number, got 'x'\.$/],
    [{ LAPIS_BLOB_PORT: '70000' }, {}, /^LAPIS_BLOB_PORT must be a port number, got '70000'\.$/],
    [{}, { '--node-heartbeat-timeout': 'PT0.5S' }, /^The node heartbeat timeout must be an ISO-8601 duration of at least a second, not 'PT0\.5S' \(--node-heartbeat-timeout\)\.$/],
    [{ LAPIS_AUTOSCALE_MIN_INTERVAL: '5m' }, {}, /^The autoscale minimum interval must be an ISO-8601 duration of at least a second, not '5m' \(LAPIS_AUTOSCALE_MIN_INTERVAL\)\.$/],
    [{ LAPIS_REQUEST_TIMEOUT: 'PT0.05S' }, {}, /^The request timeout must be an ISO-8601 duration of at least 0\.1 seconds, not 'PT0\.05S' \(LAPIS_REQUEST_TIMEOUT\)\.$/],
    [{ LAPIS_ADMIN_TASKS: 'sometimes' }, {}, /^LAPIS_ADMIN_TASKS must be 'allow' or 'refuse', not 'sometimes'\.$/],
    [{}, { '--heap-growing-percent': '1001' }, /^--heap-growing-percent must be a whole number from 0 to 1000, not '1001'\.$/],
    [{ LAPIS_HEAP_GROWING_PERCENT: '12.5' }, {}, /^LAPIS_HEAP_GROWING_PERCENT must be a whole number from 0 to 1000, not '12\.5'\.$/],
    [{ LAPIS_LOG_LEVEL: 'loud' }, {}, /^LAPIS_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not 'loud'\.$/],
  ];
  for (const [env, flags, message] of cases) {
    test(`${Object.keys(env)[0] ?? Object.keys(flags)[0]}`, () => {
      assert.throws(() => resolveSettings(env, flags), (error: Error) => {
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('a bad flag beats a good variable: the flag is named', () => {
    assert.throws(() => resolveSettings({ LAPIS_PORT: '1' }, { '--port': '-1' }), /^Error: --port must be a port number/);
  });

  test('a bad key is not echoed', () => {
    const key = 'not base64 at all!';
    assert.throws(() => resolveSettings({ LAPIS_ACCOUNTS: `alpha:${key}` }), (error: Error) => !error.message.includes(key) && /Invalid key for account 'alpha'/.test(error.message));
  });
});

describe('the serve options come from the table', () => {
  const parse = (argv: string[]) => {
    const command = addSettingOptions(new Command('serve').exitOverride(), SETTINGS);
    command.parse(argv, { from: 'user' });
    return givenFlags(command, SETTINGS);
  };

  test('every flag is an option; only given flags have values', () => {
    const flags = parse(['--port', '1', '--in-memory', '--account', 'a:b', '--account', 'c:d', '--task-user', 'x']);
    assert.deepEqual(
      Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined)),
      { '--port': '1', '--in-memory': true, '--account': ['a:b', 'c:d'], '--task-user': 'x' },
    );
    assert.deepEqual(Object.keys(flags).sort(), SETTINGS.flatMap((entry) => (entry.flag ? [entry.flag.split(' ')[0]] : [])).sort());
  });

  test('--help lists every flag that is not hidden, with its variable and default', () => {
    const command = addSettingOptions(new Command('serve'), SETTINGS);
    const help = command.helpInformation({ error: false });
    for (const entry of SETTINGS) {
      if (!entry.flag) continue;
      assert.equal(help.includes(entry.flag), !entry.hidden, entry.flag);
    }
    assert.match(help.replace(/\s+/g, ' '), /--port <port> Batch REST port; 0 picks a free one \(the ready output names it\) \(default: 10100, env: LAPIS_PORT\)/);
    assert.ok(!help.includes(DEV_STORAGE.accountKey), 'a secret default is not printed');
  });
});
