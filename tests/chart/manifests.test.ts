// Chart and manifest checks: helm lint, helm template for the default values and every example
// values file (k8s/values-*.yaml), strict validation of every rendered object against the
// Kubernetes 1.30 schemas generated offline by scripts/k8s-tools.sh, negative controls proving
// the validator rejects what it should, and the skaffold.yaml ↔ chart contract.
// Tools: bash scripts/k8s-tools.sh install (helm, kubeconform, schemas; --with-skaffold adds skaffold).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  describeProblems,
  exampleValuesFiles,
  generatedSchemas,
  hasSkaffold,
  helmLint,
  K8sObject,
  kubeconform,
  parseManifests,
  podSpecOf,
  renderChart,
  renderChartText,
  REPO_ROOT,
  skaffold,
  toYaml,
} from './support';


// helm and kubeconform are separate processes; on a loaded 2-core machine one run takes seconds.
jest.setTimeout(120_000);

// The cluster the chart is rendered for offers the optional APIs, so templates gated on
// .Capabilities render too and their objects are validated (with the CRD schemas).
const OPTIONAL_APIS = ['monitoring.coreos.com/v1', 'gateway.networking.k8s.io/v1alpha2'];

interface RenderCase {
  label: string;
  valuesFiles: string[];
}

const examples = exampleValuesFiles();
const cases: RenderCase[] = [
  { label: 'default values', valuesFiles: [] },
  ...examples.map((file) => ({ label: path.relative(REPO_ROOT, file), valuesFiles: [file] })),
];

const deepCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Every container image a set of objects runs, without registry host and tag/digest: "commucat/gateway". */
function imageRepositories(objects: readonly K8sObject[]): Set<string> {
  const repositories = new Set<string>();
  for (const object of objects) {
    const pod = podSpecOf(object);
    for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
      repositories.add(imageRepository(container.image));
    }
  }
  return repositories;
}

function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const repository = colon >= 0 ? withoutDigest.slice(0, colon) : withoutDigest;
  const parts = repository.split('/');
  // A first part with a dot, a colon or "localhost" is a registry host, not part of the name.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0])) parts.shift();
  return parts.join('/');
}

describe('example values files', () => {
  it('include dev, production and one that turns every option on', () => {
    const names = examples.map((file) => path.basename(file));
    expect(names).toEqual(expect.arrayContaining(['values-dev.yaml', 'values-production.yaml', 'values-all-options.yaml']));
  });
});

describe('helm lint --strict', () => {
  it.each(cases)('passes with $label', ({ valuesFiles }) => {
    const run = helmLint({ valuesFiles });
    expect({ status: run.status, output: run.stdout + run.stderr }).toEqual({ status: 0, output: expect.stringContaining('0 chart(s) failed') });
  });
});

describe('helm template validates strictly against the Kubernetes 1.30 schemas', () => {
  const rendered = new Map<string, K8sObject[]>();

  it.each(cases)('$label renders objects that are all valid', ({ label, valuesFiles }) => {
    const text = renderChartText({ valuesFiles, apiVersions: OPTIONAL_APIS });
    const objects = parseManifests(text);
    expect(objects.length).toBeGreaterThan(0);
    rendered.set(label, objects);

    const report = kubeconform(text);
    // Problems first: on failure the message names each object and field.
    expect(describeProblems(report)).toBe('');
    expect(report.summary).toEqual({ valid: objects.length, invalid: 0, errors: 0, skipped: 0 });
    expect(report.valid).toBe(true);
  });

  it('values-all-options.yaml renders every kind the other values files render, and more', () => {
    const kindsOf = (objects: readonly K8sObject[]) => new Set(objects.map((o) => `${o.apiVersion}/${o.kind}`));
    const allOptions = rendered.get(path.join('k8s', 'values-all-options.yaml'));
    expect(allOptions).toBeDefined();
    const allKinds = kindsOf(allOptions!);
    for (const [label, objects] of rendered) {
      const missing = [...kindsOf(objects)].filter((kind) => !allKinds.has(kind));
      expect({ label, missing }).toEqual({ label, missing: [] });
    }
    expect(allKinds.size).toBeGreaterThan(kindsOf(rendered.get('default values')!).size);
  });
});

describe('the generated schema folder', () => {
  it('covers the Kubernetes 1.30 kinds and the custom resources the chart may render', () => {
    const kinds = new Set(generatedSchemas().map((s) => `${s.apiVersion}/${s.kind}`));
    for (const kind of [
      'apps/v1/Deployment',
      'v1/Service',
      'networking.k8s.io/v1/NetworkPolicy',
      'autoscaling/v2/HorizontalPodAutoscaler',
      'policy/v1/PodDisruptionBudget',
      'batch/v1/Job',
      'monitoring.coreos.com/v1/ServiceMonitor',
      'gateway.networking.k8s.io/v1alpha2/TLSRoute',
    ]) {
      expect(kinds).toContain(kind);
    }
    // Removed before 1.30: a schema for it would mean the wrong OpenAPI document.
    expect(kinds).not.toContain('policy/v1beta1/PodSecurityPolicy');
    expect(kinds).not.toContain('autoscaling/v2beta2/HorizontalPodAutoscaler');
  });

  it('has only schemas kubeconform can compile (a broken one would read as "no schema")', () => {
    // A bare object of each kind: it may be invalid (missing spec), but never an error.
    const bare = generatedSchemas().map((s) => ({ apiVersion: s.apiVersion, kind: s.kind, metadata: { name: 'x' } }));
    const report = kubeconform(toYaml(bare));
    expect(report.problems.filter((p) => p.status === 'statusError')).toEqual([]);
    expect(report.summary.valid + report.summary.invalid).toBe(bare.length);
  });
});

describe('the validator is strict (negative controls)', () => {
  let objects: K8sObject[];
  let deploymentIndex: number;

  beforeAll(() => {
    objects = renderChart({ apiVersions: OPTIONAL_APIS });
    deploymentIndex = objects.findIndex((o) => o.kind === 'Deployment');
    expect(deploymentIndex).toBeGreaterThanOrEqual(0);
  });

  const invalidDeployment = (mutate: (deployment: K8sObject) => void) => {
    const copy = deepCopy(objects);
    mutate(copy[deploymentIndex]);
    const report = kubeconform(toYaml(copy));
    const name = copy[deploymentIndex].metadata.name;
    return { report, problem: report.problems.find((p) => p.kind === 'Deployment' && p.name === name) };
  };

  it('accepts the unmodified render after a YAML round trip', () => {
    expect(kubeconform(toYaml(objects)).valid).toBe(true);
  });

  it('rejects a field the API does not declare', () => {
    const { report, problem } = invalidDeployment((d) => {
      d.spec.template.spec.containers[0].imagePullPolcy = 'Always';
    });
    expect(report.valid).toBe(false);
    expect(report.summary.invalid).toBe(1);
    expect(problem?.status).toBe('statusInvalid');
    expect(problem?.msg).toContain("'imagePullPolcy' not allowed");
  });

  it('rejects a value of the wrong type', () => {
    const { report, problem } = invalidDeployment((d) => {
      d.spec.replicas = 'three';
    });
    expect(report.valid).toBe(false);
    expect(problem?.validationErrors).toEqual([expect.objectContaining({ path: '/spec/replicas' })]);
  });

  it('rejects a malformed resource quantity', () => {
    const { problem } = invalidDeployment((d) => {
      d.spec.template.spec.containers[0].resources = { limits: { cpu: '1 core' } };
    });
    expect(problem?.validationErrors?.map((e) => e.path)).toEqual(['/spec/template/spec/containers/0/resources/limits/cpu']);
  });

  it('reports a kind without a schema as an error instead of skipping it', () => {
    const report = kubeconform(toYaml([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }]));
    expect(report.valid).toBe(false);
    expect(report.summary).toEqual({ valid: 0, invalid: 0, errors: 1, skipped: 0 });
    expect(report.problems[0].msg).toContain('could not find schema for Widget');
  });

  it('validates the custom resources the chart may render (ServiceMonitor, TLSRoute) strictly', () => {
    const serviceMonitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'sm' },
      spec: { selector: { matchLabels: { app: 'x' } }, endpoints: [{ port: 'admin', path: '/metrics', interval: '30s' }] },
    };
    const tlsRoute = {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TLSRoute',
      metadata: { name: 'tls' },
      spec: { parentRefs: [{ name: 'edge' }], hostnames: ['chat.example.org'], rules: [{ backendRefs: [{ name: 'gateway', port: 443 }] }] },
    };
    expect(kubeconform(toYaml([serviceMonitor, tlsRoute])).summary).toEqual({ valid: 2, invalid: 0, errors: 0, skipped: 0 });

    const badMonitor = deepCopy(serviceMonitor);
    (badMonitor.spec.endpoints[0] as Record<string, unknown>).scrapeEvery = '30s';
    const badRoute = deepCopy(tlsRoute);
    (badRoute.spec.rules[0].backendRefs[0] as Record<string, unknown>).port = 'https';
    const report = kubeconform(toYaml([badMonitor, badRoute]));
    expect(report.summary).toEqual({ valid: 0, invalid: 2, errors: 0, skipped: 0 });
    expect(describeProblems(report)).toContain("'scrapeEvery' not allowed");
    expect(describeProblems(report)).toContain('/spec/rules/0/backendRefs/0/port');
  });
});

describe('skaffold.yaml deploys the chart with one artifact per image', () => {
  const skaffoldFile = path.join(REPO_ROOT, 'skaffold.yaml');
  // skaffold.yaml is read as data here; the skaffold binary (opt-in) checks it below.
  const config = () => parseManifests(fs.readFileSync(skaffoldFile, 'utf8')).find((doc) => doc.kind === 'Config') as any;
  const chartImages = () => imageRepositories(renderChart({ valuesFiles: ['k8s/values-all-options.yaml'], apiVersions: OPTIONAL_APIS }));

  it('has exactly one artifact for every image the chart runs (plus the verify image)', () => {
    const artifacts: string[] = config().build.artifacts.map((a: { image: string }) => a.image);
    expect(new Set(artifacts).size).toBe(artifacts.length);
    const verifyImages: string[] = (config().verify ?? []).map((v: { container: { image: string } }) => v.container.image);
    expect([...chartImages(), ...verifyImages].sort()).toEqual([...artifacts].sort());
  });

  it('deploys charts/commucat with values files that exist, filling in every image it built', () => {
    const releases = config().deploy.helm.releases;
    expect(releases).toHaveLength(1);
    expect(releases[0].chartPath).toBe('charts/commucat');
    // Values files of the release and those profiles add through patches (e.g. ci's values-ci.yaml).
    const profileValues: string[] = (config().profiles ?? []).flatMap((profile: any) =>
      (profile.patches ?? []).filter((p: any) => /\/valuesFiles(\/|$)/.test(p.path)).flatMap((p: any) => [p.value].flat()),
    );
    for (const file of [...(releases[0].valuesFiles ?? []), ...profileValues]) {
      expect({ file, exists: fs.existsSync(path.join(REPO_ROOT, file)) }).toEqual({ file, exists: true });
    }
    const templates = Object.values(releases[0].setValueTemplates ?? {}).join(' ');
    for (const image of chartImages()) expect(templates).toContain(`{{.IMAGE_REPO_${image.replace(/[/.-]/g, '_')}}}`);
  });

  if (hasSkaffold()) {
    it('skaffold diagnose lists one artifact per image', () => {
      const run = skaffold(['diagnose', '--yaml-only', '--filename', skaffoldFile]);
      expect(run.status).toBe(0);
      const effective = parseManifests(run.stdout).find((doc) => doc.kind === 'Config') as any;
      expect(effective.build.artifacts.map((a: { image: string }) => a.image)).toEqual(
        config().build.artifacts.map((a: { image: string }) => a.image),
      );
    });

    // Offline: tags come from the tag policy, nothing is built, pushed or looked up in a registry.
    // (Plain `skaffold diagnose` is not offline: it fetches the base image to read ONBUILD rules.)
    it.each([[[]], [['--profile', 'dev']], [['--profile', 'ci']]])('skaffold render %j renders the chart with the built images', (profile) => {
      const run = skaffold(['render', '--offline=true', '--digest-source=tag', '--filename', skaffoldFile, ...profile]);
      expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
      const objects = parseManifests(run.stdout);
      const deployments = objects.filter((o) => o.kind === 'Deployment');
      expect(deployments.length).toBeGreaterThan(0);
      expect(kubeconform(run.stdout).valid).toBe(true);
      const artifacts: string[] = config().build.artifacts.map((a: { image: string }) => a.image);
      for (const image of imageRepositories(deployments)) expect(artifacts).toContain(image);
    });
  }
});
