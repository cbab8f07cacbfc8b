import { Counter } from 'prom-client';
import { initTelemetry } from '@commucat/telemetry';

describe('metrics registry', () => {
  it('exposes default process metrics labelled with the service and accepts custom ones', async () => {
    const telemetry = initTelemetry({ serviceName: 'metricstest', logLevel: 'silent' });
    try {
      const counter = new Counter({ name: 'commucat_test_things_total', help: 'things', registers: [telemetry.registry] });
      counter.inc(3);
      const text = await telemetry.registry.metrics();
      expect(text).toMatch(/^process_cpu_user_seconds_total\{service="metricstest"\} /m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="metricstest"\} /m);
      expect(text).toContain('# HELP commucat_test_things_total things');
      expect(text).toMatch(/^commucat_test_things_total\{service="metricstest"\} 3$/m);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('keeps registries of two services apart', async () => {
    const a = initTelemetry({ serviceName: 'svc-a', logLevel: 'silent' });
    const b = initTelemetry({ serviceName: 'svc-b', logLevel: 'silent' });
    try {
      new Counter({ name: 'only_in_a_total', help: 'a', registers: [a.registry] }).inc();
      expect(await a.registry.metrics()).toContain('only_in_a_total{service="svc-a"} 1');
      const textB = await b.registry.metrics();
      expect(textB).not.toContain('only_in_a_total');
      expect(textB).toContain('service="svc-b"');
    } finally {
      await b.shutdown();
      await a.shutdown();
    }
  });
});
