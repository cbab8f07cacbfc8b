import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { canonicalJson, createLedger, FileLedger, GENESIS_HASH, LedgerError, NullLedger, verifyLedgerFile, verifyLedgerText } from '@commucat/ledger';

const dir = mkdtempSync(path.join(tmpdir(), 'ledger-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
const record = (n: number) => ({ digest: digest(`r${n}`), recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)), metadata: { scope: 'secrets', event: 'noise_rotated', version: n } });

async function writeThree(file: string): Promise<void> {
  const ledger = new FileLedger(file);
  await Promise.all([ledger.submit(record(1)), ledger.submit(record(2)), ledger.submit(record(3))]);
  await ledger.close();
}

describe('file ledger hash chain', () => {
  test('writes sorted-key JSON lines linked by prev, in submission order, to a 0600 file in a created directory', async () => {
    const file = path.join(dir, 'nested', 'a', 'ledger.jsonl');
    await writeThree(file);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.metadata.version)).toEqual([1, 2, 3]);
    expect(Object.keys(lines[0])).toEqual(['digest', 'hash', 'metadata', 'prev', 'recorded_at', 'seq']);
    expect(lines[0]).toMatchObject({ digest: digest('r1').toString('hex'), prev: GENESIS_HASH, recorded_at: '2026-01-01T00:00:01.000+00:00', seq: 1 });
    expect(lines[1].prev).toBe(lines[0].hash);
    expect(lines[2].prev).toBe(lines[1].hash);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(verifyLedgerFile(file)).toEqual({ ok: true, records: 3, lastHash: lines[2].hash });
  });

  test('a reopened ledger continues the chain', async () => {
    const file = path.join(dir, 'resume.jsonl');
    await writeThree(file);
    const again = new FileLedger(file);
    await again.submit(record(4));
    await again.close();
    const verdict = verifyLedgerFile(file);
    expect(verdict).toMatchObject({ ok: true, records: 4 });
  });

  test('detects an edited field, a dropped line, swapped lines and a forged hash', async () => {
    const file = path.join(dir, 'tamper.jsonl');
    await writeThree(file);
    const lines = readFileSync(file, 'utf8').trim().split('\n');

    const edited = [...lines];
    edited[1] = edited[1]!.replace('"version":2', '"version":9');
    expect(verifyLedgerText(edited.join('\n'))).toMatchObject({ ok: false, line: 2, reason: expect.stringMatching(/hash/) });

    expect(verifyLedgerText([lines[0], lines[2]].join('\n'))).toMatchObject({ ok: false, line: 2 });
    expect(verifyLedgerText([lines[1], lines[0], lines[2]].join('\n'))).toMatchObject({ ok: false, line: 1 });

    // Recomputing the edited line's own hash still breaks the link of the next line.
    const forged = JSON.parse(edited[1]!);
    delete forged.hash;
    const { chainHash } = await import('@commucat/ledger');
    const rehashed = canonicalJson({ ...forged, hash: chainHash(forged) });
    expect(verifyLedgerText([lines[0], rehashed, lines[2]].join('\n'))).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/prev/) });

    expect(verifyLedgerText(`${lines[0]}\nnot json\n`)).toMatchObject({ ok: false, line: 2, reason: 'not JSON' });
  });

  test('refuses to append to a file whose chain is already broken', async () => {
    const file = path.join(dir, 'broken.jsonl');
    await writeThree(file);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"version":1', '"version":5'));
    expect(() => new FileLedger(file)).toThrow(expect.objectContaining({ code: 'LEDGER_CORRUPT' }));
  });
});

describe('adapters', () => {
  test('null validates and drops; a digest that is not 32 bytes is refused', async () => {
    await expect(new NullLedger().submit(record(1))).resolves.toBeUndefined();
    await expect(new NullLedger().submit({ ...record(1), digest: Buffer.alloc(31) })).rejects.toBeInstanceOf(LedgerError);
  });

  test('debug logs the hex digest and metadata; file without a target fails at boot', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const ledger = createLedger({ mode: 'debug' }, pino({ level: 'info' }, sink));
    expect(ledger.mode).toBe('debug');
    await ledger.submit(record(7));
    const logged = JSON.parse(lines[0]!);
    expect(logged).toMatchObject({ digest: digest('r7').toString('hex'), metadata: { version: 7 }, component: 'ledger' });
    expect(() => createLedger({ mode: 'file' }, pino({ level: 'silent' }))).toThrow(expect.objectContaining({ code: 'LEDGER_TARGET_REQUIRED' }));
    expect(createLedger({ mode: 'null' }, pino({ level: 'silent' })).mode).toBe('null');
  });
});
