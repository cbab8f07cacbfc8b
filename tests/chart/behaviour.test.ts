// What the chart does with its values: scheduling, hardening, network isolation, rollouts,
// identities, hooks, exposure, TLS, images, and the schema's refusals. Rendering only (helm
// template); tests/chart/manifests.test.ts validates the same output against the 1.30 schemas.
import {
  containersOf,
  findObject,
  K8sObject,
  objectsOfKind,
  podSpecOf,
  renderChart,
  renderChartRaw,
} from './support';

const SERVICES = ['gateway', 'secrets', 'directory', 'presence', 'router', 'relay', 'media', 'federation'] as const;
type Service = (typeof SERVICES)[number];
const GRPC_SERVICES = SERVICES.filter((s) => s !== 'gateway');
const ALL_OPTIONS = 'k8s/values-all-options.yaml';

// Default release "commucat" in namespace "commucat": fullname commucat, objects commucat-<service>.
const name = (component: string) => `commucat-${component}`;
const deployment = (objects: K8sObject[], service: Service) => findObject(objects, 'Deployment', name(service));
const mainContainer = (objects: K8sObject[], service: Service) => podSpecOf(deployment(objects, service)).containers[0];
const envOf = (container: any, variable: string) => (container.env ?? []).find((e: any) => e.name === variable);

/** Everything that runs a pod: Deployments, the migration Job and the helm test Pod. */
const workloads = (objects: K8sObject[]) => objects.filter((o) => podSpecOf(o) !== undefined);

const defaults = renderChart();
// Named like the defaults; the dashboard (a ConfigMap from the tracing work's JSON file) runs nothing.
const allOptions = renderChart({ valuesFiles: [ALL_OPTIONS], setJson: { nameOverride: 'commucat', 'dashboard.enabled': false } });

/**
 * Whether a NetworkPolicy admits a pod of this release's `component` on the named port, judged
 * from the podSelector peers only (the rules the chart writes for in-namespace callers).
 */
function admitsComponent(policy: K8sObject, component: string, port: string): boolean {
  const labels: Record<string, string> = {
    'app.kubernetes.io/name': 'commucat',
    'app.kubernetes.io/instance': 'commucat',
    'app.kubernetes.io/component': component,
  };
  const selects = (selector: any): boolean => {
    const matchLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const matchExpressions = (selector.matchExpressions ?? []).every((e: any) =>
      e.operator === 'In' ? e.values.includes(labels[e.key]) : e.operator === 'NotIn' ? !e.values.includes(labels[e.key]) : true,
    );
    return matchLabels && matchExpressions;
  };
  return (policy.spec.ingress ?? []).some((rule: any) => {
    const onPort = (rule.ports ?? []).some((p: any) => p.port === port);
    if (!onPort) return false;
    if (!rule.from) return true; // no "from": every source
    return rule.from.some((peer: any) => peer.podSelector && !peer.namespaceSelector && !peer.ipBlock && selects(peer.podSelector));
  });
}

describe('media scheduling', () => {
  const tolerations = [{ key: 'commucat.io/pool', operator: 'Equal', value: 'media', effect: 'NoSchedule' }];
  const affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'commucat.io/pool', operator: 'In', values: ['media'] }] }],
      },
    },
  };
  const objects = renderChart({
    setJson: { 'media.nodeSelector': { 'commucat.io/pool': 'media' }, 'media.tolerations': tolerations, 'media.affinity': affinity },
  });

  it('puts the media pods on the node pool named in values', () => {
    const pod = podSpecOf(deployment(objects, 'media'));
    expect(pod.nodeSelector).toEqual({ 'commucat.io/pool': 'media' });
    expect(pod.tolerations).toEqual(tolerations);
    expect(pod.affinity).toEqual(affinity);
  });

  it('leaves every other service unconstrained', () => {
    for (const service of SERVICES.filter((s) => s !== 'media')) {
      const pod = podSpecOf(deployment(objects, service));
      expect({ service, nodeSelector: pod.nodeSelector, tolerations: pod.tolerations, affinity: pod.affinity }).toEqual({
        service,
        nodeSelector: undefined,
        tolerations: undefined,
        affinity: undefined,
      });
    }
  });

  it('gives media its own HPA on CPU when enabled', () => {
    const hpa = findObject(renderChart({ set: { 'media.autoscaling.enabled': 'true', 'media.autoscaling.maxReplicas': '7' } }), 'HorizontalPodAutoscaler', name('media'));
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: name('media') });
    expect(hpa.spec.maxReplicas).toBe(7);
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  });
});

describe('pod hardening', () => {
  it.each([
    ['default values', defaults],
    ['every option on', allOptions],
  ])('every container and init container runs non-root, read-only, without capabilities, under RuntimeDefault (%s)', (_label, objects) => {
    const runners = workloads(objects);
    // 8 Deployments, the migration Job and the helm test Pod.
    expect(runners.map((o) => o.kind).sort()).toEqual([...Array(8).fill('Deployment'), 'Job', 'Pod']);
    for (const workload of runners) {
      const pod = podSpecOf(workload);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      const containers = containersOf(workload);
      expect(containers.length).toBeGreaterThan(0);
      for (const { name: container, container: c } of containers) {
        expect({ workload: workload.metadata.name, container, sc: c.securityContext }).toEqual({
          workload: workload.metadata.name,
          container,
          sc: expect.objectContaining({
            runAsNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          }),
        });
        expect(c.securityContext.capabilities.add).toBeUndefined();
        // The read-only root needs a writable /tmp.
        const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
        expect(pod.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined();
      }
    }
  });

  it('runs with the uid and gid from values', () => {
    const objects = renderChart({ set: { 'securityContext.runAsUser': '4242', 'securityContext.runAsGroup': '4343' } });
    for (const workload of workloads(objects)) {
      expect(podSpecOf(workload).securityContext).toMatchObject({ runAsUser: 4242, runAsGroup: 4343 });
      for (const { container } of containersOf(workload)) expect(container.securityContext).toMatchObject({ runAsUser: 4242, runAsGroup: 4343 });
    }
  });
});

describe('network policies', () => {
  const policies = objectsOfKind(defaults, 'NetworkPolicy');
  const policy = (service: Service) => findObject(policies, 'NetworkPolicy', name(service));

  it('exist once per service and select exactly that service’s pods', () => {
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(SERVICES.map(name).sort());
    for (const service of SERVICES) {
      const p = policy(service);
      expect(p.spec.policyTypes).toEqual(['Ingress']);
      expect(p.spec.podSelector.matchLabels).toEqual(deployment(defaults, service).spec.selector.matchLabels);
      expect(p.spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe(service);
    }
  });

  it.each<[Service, string[]]>([
    ['secrets', ['gateway', 'directory', 'federation', 'cli']],
    ['directory', ['gateway', 'router', 'federation', 'cli']],
    ['presence', ['gateway', 'router']],
    ['relay', ['gateway', 'router']],
    ['federation', ['gateway', 'directory', 'router', 'cli']],
    ['router', []],
    ['media', []],
  ])('%s admits gRPC from exactly %j', (service, callers) => {
    const candidates = [...SERVICES, 'cli', 'test', 'migrate', 'intruder'];
    const admitted = candidates.filter((c) => admitsComponent(policy(service), c, 'grpc'));
    expect(admitted.sort()).toEqual([...callers].sort());
  });

  it('lets anyone reach the gateway’s TLS port and nothing else of it', () => {
    const gw = policy('gateway');
    const tlsRules = gw.spec.ingress.filter((r: any) => r.ports.some((p: any) => p.port === 'tls'));
    expect(tlsRules).toHaveLength(1);
    expect(tlsRules[0].from).toBeUndefined();
    expect(gw.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port)).sort()).toEqual(['admin', 'tls']);
  });

  it('admits media only on its admin port, from the monitoring namespace', () => {
    const media = policy('media');
    expect(media.spec.ingress).toEqual([
      {
        ports: [{ port: 'admin', protocol: 'TCP' }],
        from: [
          {
            podSelector: {},
            namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['monitoring'] }] },
          },
        ],
      },
    ]);
  });

  it('takes the metrics scrapers from values for every service', () => {
    const objects = renderChart({
      setJson: { 'networkPolicy.metrics': { namespaces: ['obs'], namespaceLabels: { team: 'obs' }, podLabels: { app: 'vmagent' } } },
    });
    for (const p of objectsOfKind(objects, 'NetworkPolicy')) {
      const admin = p.spec.ingress.find((r: any) => r.ports.some((port: any) => port.port === 'admin'));
      expect(admin.from).toEqual([
        {
          podSelector: { matchLabels: { app: 'vmagent' } },
          namespaceSelector: {
            matchLabels: { team: 'obs' },
            matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['obs'] }],
          },
        },
      ]);
    }
  });

  it('admits scrapes from the release namespace when no namespace is named', () => {
    const objects = renderChart({ setJson: { 'networkPolicy.metrics.namespaces': [] } });
    const admin = findObject(objects, 'NetworkPolicy', name('relay')).spec.ingress.find((r: any) => r.ports.some((port: any) => port.port === 'admin'));
    expect(admin.from).toEqual([{ podSelector: {} }]);
  });

  it('keeps a path from the helm test pod to the gateway when gateway sources are restricted', () => {
    const objects = renderChart({ setJson: { 'networkPolicy.gatewayFrom': [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] } });
    const gw = findObject(objects, 'NetworkPolicy', name('gateway'));
    expect(admitsComponent(gw, 'test', 'tls')).toBe(true);
    expect(admitsComponent(gw, 'router', 'tls')).toBe(false);
    const smoke = objectsOfKind(objects, 'Pod')[0];
    expect(smoke.metadata.labels?.['app.kubernetes.io/component']).toBe('test');
  });

  it('are left out when networkPolicy.enabled is false', () => {
    expect(objectsOfKind(renderChart({ set: { 'networkPolicy.enabled': 'false' } }), 'NetworkPolicy')).toEqual([]);
  });
});

describe('rollouts, identities, hooks', () => {
  it('rolls every Deployment out with maxUnavailable 0', () => {
    for (const objects of [defaults, allOptions]) {
      const deployments = objectsOfKind(objects, 'Deployment');
      expect(deployments).toHaveLength(8);
      for (const d of deployments) {
        expect({ name: d.metadata.name, strategy: d.spec.strategy.type, maxUnavailable: d.spec.strategy.rollingUpdate.maxUnavailable }).toEqual({
          name: d.metadata.name,
          strategy: 'RollingUpdate',
          maxUnavailable: 0,
        });
      }
    }
  });

  it('gives each service its own ServiceAccount without an API token, and pods do not mount one', () => {
    const accounts = objectsOfKind(defaults, 'ServiceAccount');
    for (const account of accounts) expect({ name: account.metadata.name, automount: account.automountServiceAccountToken }).toEqual({ name: account.metadata.name, automount: false });
    for (const service of SERVICES) {
      const pod = podSpecOf(deployment(defaults, service));
      expect(pod.serviceAccountName).toBe(name(service));
      expect(accounts.some((a) => a.metadata.name === name(service))).toBe(true);
    }
    for (const workload of workloads(defaults)) expect(podSpecOf(workload).automountServiceAccountToken).toBe(false);
  });

  it('runs migrations as a pre-install,pre-upgrade hook Job with the cli image', () => {
    const job = findObject(defaults, 'Job', name('migrate'));
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    expect(job.metadata.annotations?.['helm.sh/hook-weight']).toMatch(/^-?\d+$/);
    const container = podSpecOf(job).containers[0];
    expect(container.image).toBe('commucat/cli:0.1.0');
    expect(container.args).toEqual(['migrate']);
    expect(envOf(container, 'COMMUCAT_PG_DSN').value).toBe('postgres://commucat@postgresql:5432/commucat?sslmode=disable');
    // Its ServiceAccount exists before the release's own objects: it is a hook with a lower weight.
    const account = findObject(defaults, 'ServiceAccount', podSpecOf(job).serviceAccountName);
    expect(Number(account.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations?.['helm.sh/hook-weight']));
  });

  it('hands the migration Job the PostgreSQL password through its own hook Secret', () => {
    const objects = renderChart({ set: { 'postgresql.password': 'pw-123' } });
    const job = findObject(objects, 'Job', name('migrate'));
    const pgPassword = envOf(podSpecOf(job).containers[0], 'PGPASSWORD');
    const secret = findObject(objects, 'Secret', pgPassword.valueFrom.secretKeyRef.name);
    expect(secret.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Buffer.from(secret.data![pgPassword.valueFrom.secretKeyRef.key], 'base64').toString()).toBe('pw-123');
  });

  it('runs the smoke check against the gateway Service as a helm test', () => {
    const pod = objectsOfKind(defaults, 'Pod')[0];
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    expect(pod.spec.containers[0].args).toEqual(['smoke', '--gateway', 'https://commucat-gateway:443', '--insecure', '--timeout', '60000']);
    expect(pod.spec.restartPolicy).toBe('Never');
  });
});

describe('probes', () => {
  it('checks gRPC health at start-up and HTTP /healthz and /readyz on the admin port', () => {
    for (const service of GRPC_SERVICES) {
      const c = mainContainer(defaults, service);
      const grpcPort = c.ports.find((p: any) => p.name === 'grpc').containerPort;
      expect(grpcPort).toBeGreaterThanOrEqual(7101);
      expect(grpcPort).toBeLessThanOrEqual(7107);
      expect(c.startupProbe.grpc).toEqual({ port: grpcPort });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    }
    const gateway = mainContainer(defaults, 'gateway');
    expect(gateway.startupProbe.grpc).toBeUndefined();
    expect(gateway.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(gateway.ports.map((p: any) => p.name)).toEqual(['tls', 'admin']);
  });
});

describe('gateway exposure', () => {
  it.each(['LoadBalancer', 'NodePort', 'ClusterIP'])('makes the gateway Service a %s when asked', (type) => {
    const svc = findObject(renderChart({ set: { 'gateway.service.type': type } }), 'Service', name('gateway'));
    expect(svc.spec.type).toBe(type);
    expect(svc.spec.ports.find((p: any) => p.name === 'tls')).toMatchObject({ port: 443, targetPort: 'tls' });
  });

  it('pins the NodePort from values', () => {
    const svc = findObject(renderChart({ set: { 'gateway.service.type': 'NodePort', 'gateway.service.nodePort': '30443' } }), 'Service', name('gateway'));
    expect(svc.spec.ports.find((p: any) => p.name === 'tls').nodePort).toBe(30443);
  });

  it('keeps the other services internal', () => {
    for (const service of GRPC_SERVICES) expect(findObject(defaults, 'Service', name(service)).spec.type).toBe('ClusterIP');
  });

  it('routes Ingress and TLSRoute to the gateway by TLS passthrough', () => {
    const ingress = findObject(allOptions, 'Ingress', name('gateway'));
    expect(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/ssl-passthrough']).toBe('true');
    expect(ingress.spec.tls).toBeUndefined();
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: name('gateway'), port: { name: 'tls' } });
    const route = findObject(allOptions, 'TLSRoute', name('gateway'));
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1alpha2');
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: name('gateway'), port: 8443 }]);
  });

  it('autoscales the gateway on CPU and on open connections through the custom metric', () => {
    const hpa = findObject(allOptions, 'HorizontalPodAutoscaler', name('gateway'));
    expect(hpa.spec.metrics).toContainEqual({
      type: 'Pods',
      pods: { metric: { name: 'commucat_gateway_connections' }, target: { type: 'AverageValue', averageValue: '3000' } },
    });
    expect(hpa.spec.metrics).toContainEqual(expect.objectContaining({ type: 'Resource' }));
    // The HPA owns the replica count.
    expect(deployment(allOptions, 'gateway').spec.replicas).toBeUndefined();
  });
});

describe('gateway TLS', () => {
  const tlsVolume = (objects: K8sObject[]) => podSpecOf(deployment(objects, 'gateway')).volumes.find((v: any) => v.name === 'tls').secret.secretName;

  it('mounts an existing Secret and creates none', () => {
    const objects = renderChart({ set: { 'gateway.tls.existingSecret': 'my-cert' } });
    expect(tlsVolume(objects)).toBe('my-cert');
    expect(objectsOfKind(objects, 'Secret').filter((s) => s.type === 'kubernetes.io/tls')).toEqual([]);
  });

  it('creates the Secret from the PEM in values and mounts it', () => {
    const objects = renderChart({ setString: { 'gateway.tls.certificate': '-----BEGIN CERTIFICATE-----\nMIIB\n', 'gateway.tls.key': '-----BEGIN PRIVATE KEY-----\nMIIE\n' } });
    const secret = findObject(objects, 'Secret', tlsVolume(objects));
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(secret.data!['tls.crt'], 'base64').toString()).toBe('-----BEGIN CERTIFICATE-----\nMIIB\n');
    expect(Buffer.from(secret.data!['tls.key'], 'base64').toString()).toBe('-----BEGIN PRIVATE KEY-----\nMIIE\n');
  });

  it('makes a self-signed certificate when given none, and points the gateway at the mounted files', () => {
    const secret = findObject(defaults, 'Secret', tlsVolume(defaults));
    expect(Buffer.from(secret.data!['tls.crt'], 'base64').toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const gateway = mainContainer(defaults, 'gateway');
    const mount = gateway.volumeMounts.find((m: any) => m.name === 'tls').mountPath;
    expect(envOf(gateway, 'COMMUCAT_TLS_CERT').value).toBe(`${mount}/tls.crt`);
    expect(envOf(gateway, 'COMMUCAT_TLS_KEY').value).toBe(`${mount}/tls.key`);
  });

  it('refuses a certificate without its key', () => {
    const r = renderChartRaw({ setString: { 'gateway.tls.certificate': '-----BEGIN CERTIFICATE-----\nMIIB\n' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('gateway.tls.key');
  });
});

describe('configuration and credentials', () => {
  it('addresses the services by their cluster DNS names and binds every listener to all interfaces', () => {
    const env = findObject(defaults, 'ConfigMap', 'commucat-env').data!;
    expect(env.COMMUCAT_DIRECTORY_ADDR).toBe('commucat-directory:7102');
    expect(env.COMMUCAT_SECRETS_ADDR).toBe('commucat-secrets:7101');
    expect(env.COMMUCAT_RELAY_GRPC_BIND).toBe('0.0.0.0:7105');
    expect(env.COMMUCAT_GATEWAY_ADMIN_BIND).toBe('0.0.0.0:9100');
    expect(env.COMMUCAT_BIND).toBe('0.0.0.0:8443');
    expect(env.COMMUCAT_NATS_URL).toBe('nats://nats:4222');
  });

  it('renders commucat.toml from values', () => {
    const toml = findObject(renderChart({ set: { 'config.server.domain': 'chat.example.net', 'config.media.vp8_cpu_used': '9' } }), 'ConfigMap', 'commucat').data!['commucat.toml'];
    expect(toml).toMatch(/\[server\][^[]*domain = "chat\.example\.net"/);
    expect(toml).toMatch(/\[media\][^[]*vp8_cpu_used = 9/);
  });

  it('gives the key-encryption key to the secrets service only', () => {
    for (const service of SERVICES) {
      const kek = envOf(mainContainer(defaults, service), 'COMMUCAT_SECRETS_KEK');
      if (service === 'secrets') expect(kek.valueFrom.secretKeyRef).toEqual({ name: 'commucat', key: 'secrets-kek' });
      else expect(kek).toBeUndefined();
    }
    const kek = findObject(defaults, 'Secret', 'commucat').data!['secrets-kek'];
    expect(Buffer.from(kek, 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads credentials from an existing Secret instead of creating one', () => {
    const objects = renderChart({ set: { 'credentials.existingSecret': 'fleet-keys' } });
    expect(objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'commucat')).toBe(false);
    expect(envOf(mainContainer(objects, 'secrets'), 'COMMUCAT_SECRETS_KEK').valueFrom.secretKeyRef).toEqual({ name: 'fleet-keys', key: 'secrets-kek' });
  });

  it('passes the PostgreSQL password from an existing Secret as PGPASSWORD to the services that use PostgreSQL', () => {
    const objects = renderChart({ set: { 'postgresql.existingSecret': 'pg', 'postgresql.existingSecretPasswordKey': 'pass' } });
    for (const service of SERVICES) {
      const pg = envOf(mainContainer(objects, service), 'PGPASSWORD');
      const usesPostgres = ['secrets', 'directory', 'router', 'relay', 'federation'].includes(service);
      if (usesPostgres) expect(pg.valueFrom.secretKeyRef).toEqual({ name: 'pg', key: 'pass' });
      else expect(pg).toBeUndefined();
    }
  });

  it('splices the Redis password into the URL of gateway and presence only', () => {
    const objects = renderChart({ set: { 'redis.password': 'r3dis' } });
    for (const service of ['gateway', 'presence'] as const) {
      const c = mainContainer(objects, service);
      expect(envOf(c, 'COMMUCAT_REDIS_URL').value).toBe('redis://:$(REDIS_PASSWORD)@redis-master:6379/0');
      // Kubernetes expands $(VAR) only for variables defined earlier in the list.
      const names = c.env.map((e: any) => e.name);
      expect(names.indexOf('REDIS_PASSWORD')).toBeLessThan(names.indexOf('COMMUCAT_REDIS_URL'));
    }
    expect(envOf(mainContainer(objects, 'router'), 'COMMUCAT_REDIS_URL')).toBeUndefined();
  });
});

describe('NATS credentials', () => {
  const natsEnv = (objects: K8sObject[], service: Service) =>
    (mainContainer(objects, service).env ?? []).filter((e: any) => e.name.startsWith('COMMUCAT_NATS_'));

  test('user and password reach every service, the password only through the datastore Secret', () => {
    const objects = renderChart({ set: { 'nats.user': 'fleet', 'nats.password': 'nats-pw' } });
    for (const service of SERVICES) {
      expect(natsEnv(objects, service)).toEqual([
        { name: 'COMMUCAT_NATS_USER', value: 'fleet' },
        { name: 'COMMUCAT_NATS_PASSWORD', valueFrom: { secretKeyRef: { name: name('datastores'), key: 'nats-password' } } },
      ]);
    }
    const secret = findObject(objects, 'Secret', name('datastores'));
    expect(Buffer.from((secret.data as Record<string, string>)['nats-password']!, 'base64').toString()).toBe('nats-pw');
    expect(JSON.stringify(findObject(objects, 'ConfigMap', name('env')))).not.toContain('nats-pw');
    expect(natsEnv(defaults, 'router')).toEqual([]);
  });

  test('a token, or either from an existing Secret', () => {
    const token = renderChart({ set: { 'nats.token': 'nats-tk' } });
    expect(natsEnv(token, 'media')).toEqual([{ name: 'COMMUCAT_NATS_TOKEN', valueFrom: { secretKeyRef: { name: name('datastores'), key: 'nats-token' } } }]);
    const existing = renderChart({ set: { 'nats.existingSecret': 'nats-creds', 'nats.existingSecretTokenKey': 'token' } });
    expect(natsEnv(existing, 'gateway')).toEqual([{ name: 'COMMUCAT_NATS_TOKEN', valueFrom: { secretKeyRef: { name: 'nats-creds', key: 'token' } } }]);
    const existingPair = renderChart({ set: { 'nats.user': 'fleet', 'nats.existingSecret': 'nats-creds' } });
    expect(natsEnv(existingPair, 'secrets')[1]).toEqual({ name: 'COMMUCAT_NATS_PASSWORD', valueFrom: { secretKeyRef: { name: 'nats-creds', key: 'nats-password' } } });
  });

  test.each([
    [{ 'nats.user': 'fleet' }, 'nats.user needs nats.password'],
    [{ 'nats.password': 'pw' }, 'nats.password needs nats.user'],
    [{ 'nats.user': 'fleet', 'nats.password': 'pw', 'nats.token': 'tk' }, 'not both'],
  ])('refuses inconsistent credentials %j', (set, message) => {
    const run = renderChartRaw({ set });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(message);
  });
});

describe('monitoring and tracing', () => {
  test('a ServiceMonitor per service scrapes its admin /metrics and keeps our own `service` label', () => {
    const objects = renderChart({ set: { 'serviceMonitor.enabled': 'true' } });
    const monitors = objectsOfKind(objects, 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(SERVICES.map(name).sort());
    for (const monitor of monitors) {
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'admin', path: '/metrics', honorLabels: true })]);
    }
    expect(objectsOfKind(defaults, 'ServiceMonitor')).toEqual([]);
  });

  test('tracing.otlpEndpoint reaches every service as OTEL_EXPORTER_OTLP_ENDPOINT, never a shared service name', () => {
    const objects = renderChart({ set: { 'tracing.otlpEndpoint': 'http://otel-collector.observability:4318' } });
    const config = findObject(objects, 'ConfigMap', name('env'));
    expect(config.data).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4318' });
    expect(config.data).not.toHaveProperty('OTEL_SERVICE_NAME');
    expect(findObject(defaults, 'ConfigMap', name('env')).data).not.toHaveProperty('OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  test('the dashboard ConfigMap carries the dashboard JSON for the Grafana sidecar', () => {
    const objects = renderChart({ set: { 'dashboard.enabled': 'true' } });
    const dashboards = objectsOfKind(objects, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard !== undefined);
    expect(dashboards).toHaveLength(1);
    const [json] = Object.values(dashboards[0]!.data as Record<string, string>);
    expect(JSON.parse(json!)).toMatchObject({ title: expect.stringContaining('CommuCat'), panels: expect.any(Array) });
  });
});

describe('images', () => {
  it('names images <registry>/<repository>/<service>:<tag>, the tag defaulting to the app version', () => {
    expect(mainContainer(defaults, 'gateway').image).toBe('commucat/gateway:0.1.0');
    const objects = renderChart({ set: { 'image.registry': 'reg.local:5000', 'image.tag': '1.2.3' } });
    for (const service of SERVICES) expect(mainContainer(objects, service).image).toBe(`reg.local:5000/commucat/${service}:1.2.3`);
  });

  it('applies per-service repository and tag overrides (what skaffold sets) to that service only', () => {
    const objects = renderChart({
      set: { 'gateway.image.repository': 'localhost:5000/gw-dev', 'gateway.image.tag': 'abc123', 'media.image.tag': 'ffmpeg7', 'cli.image.repository': 'localhost:5000/cli' },
    });
    expect(mainContainer(objects, 'gateway').image).toBe('localhost:5000/gw-dev:abc123');
    expect(mainContainer(objects, 'media').image).toBe('commucat/media:ffmpeg7');
    expect(mainContainer(objects, 'router').image).toBe('commucat/router:0.1.0');
    expect(podSpecOf(findObject(objects, 'Job', name('migrate'))).containers[0].image).toBe('localhost:5000/cli:0.1.0');
    expect(objectsOfKind(objects, 'Pod')[0].spec.containers[0].image).toBe('localhost:5000/cli:0.1.0');
  });

  it.each([
    ['a bare digest', `sha256:${'ab'.repeat(32)}`, `commucat/relay@sha256:${'ab'.repeat(32)}`],
    ["skaffold's tag@digest", `v1-3-g1f2e@sha256:${'cd'.repeat(32)}`, `commucat/relay:v1-3-g1f2e@sha256:${'cd'.repeat(32)}`],
    ["skaffold's tag@ before a digest exists", 'v1-3-g1f2e@', 'commucat/relay:v1-3-g1f2e'],
  ])('turns %s given as the tag into a valid image reference', (_label, tag, image) => {
    expect(mainContainer(renderChart({ setString: { 'relay.image.tag': tag } }), 'relay').image).toBe(image);
  });
});

describe('values schema', () => {
  it.each<[string, Record<string, string>, string]>([
    ['a negative replica count', { 'gateway.replicaCount': '-1' }, "at '/gateway/replicaCount': minimum"],
    ['a wrong type', { 'media.replicaCount': 'many' }, "at '/media/replicaCount': got string, want integer"],
    ['an unknown key', { 'gateway.replicas': '2' }, "additional properties 'replicas' not allowed"],
    ['an unknown top-level key', { postgres: 'x' }, "additional properties 'postgres' not allowed"],
    ['a bad enum', { 'gateway.service.type': 'ExternalName' }, "at '/gateway/service/type': value must be one of"],
    ['a bad transport mode', { 'config.server.transport_encryption': 'sometimes' }, "at '/config/server/transport_encryption'"],
    ['an out-of-range encoder setting', { 'config.media.opus_complexity': '11' }, "at '/config/media/opus_complexity': maximum"],
    ['a KEK that is not 64 hex digits', { 'credentials.secretsKek': 'abc' }, "at '/credentials/secretsKek'"],
    ['a pull policy typo', { 'image.pullPolicy': 'Sometimes' }, "at '/image/pullPolicy'"],
  ])('rejects %s with a message naming the value', (_label, set, message) => {
    const r = renderChartRaw({ set });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(message);
  });

  it('rejects a toleration with an unknown effect', () => {
    const r = renderChartRaw({ setJson: { 'media.tolerations': [{ key: 'pool', operator: 'Exists', effect: 'Sometimes' }] } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("at '/media/tolerations/0/effect'");
  });
});
