import { renderDiagnoseTable } from '../src/commands/diagnose';
import { renderKeyValues, renderTable } from '../src/table';

describe('renderTable', () => {
  it('pads every column but the last to its widest cell and adds a rule', () => {
    const text = renderTable(['id', 'status', 'key'], [['dev-1', 'active', 'ab'], ['d2', 'revoked', 'cdef']]);
    expect(text).toBe(['id     status   key', '-----  -------  ----', 'dev-1  active   ab', 'd2     revoked  cdef', ''].join('\n'));
  });

  it('keeps a row on one line when a cell holds newlines or tabs', () => {
    const lines = renderTable(['a', 'b'], [['x\ny', 'p\tq']]).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('x y  p q');
  });

  it('renders an empty table as header and rule', () => {
    expect(renderTable(['component', 'status'], [])).toBe('component  status\n---------  ------\n');
  });
});

describe('renderKeyValues', () => {
  it('prints key=value lines and leaves out undefined values', () => {
    expect(renderKeyValues([['user_id', 'u1'], ['display_name', undefined], ['sessions_revoked', 0]])).toBe('user_id=u1\nsessions_revoked=0\n');
  });
});

describe('renderDiagnoseTable', () => {
  it('shows FAIL for failed checks, latency in ms and the detail', () => {
    const text = renderDiagnoseTable([
      { component: 'postgres', target: 'db:5432/x', status: 'ok', latencyMs: 3, detail: 'SELECT 1 ok' },
      { component: 'directory grpc', target: '127.0.0.1:7102', status: 'fail', latencyMs: 12, detail: 'connect ECONNREFUSED' },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^component\s+target\s+status\s+latency\s+detail$/);
    expect(lines[2]).toMatch(/^postgres\s+db:5432\/x\s+ok\s+3 ms\s+SELECT 1 ok$/);
    expect(lines[3]).toMatch(/^directory grpc\s+127\.0\.0\.1:7102\s+FAIL\s+12 ms\s+connect ECONNREFUSED$/);
    // Columns line up: every row starts its status at the same offset.
    expect(lines[2]!.indexOf('ok ')).toBe(lines[0]!.indexOf('status'));
    expect(lines[3]!.indexOf('FAIL')).toBe(lines[0]!.indexOf('status'));
  });
});
