import * as path from 'node:path';

/** Repository root (tests/chart/support → three levels up). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** The chart every test targets unless it names another one. */
export const CHART_DIR = path.join(REPO_ROOT, 'charts', 'commucat');

/** Example values files live here as values-*.yaml. */
export const EXAMPLE_VALUES_DIR = path.join(REPO_ROOT, 'k8s');

/** The Kubernetes version the chart is rendered for and validated against. */
export const KUBERNETES_VERSION = '1.30.14';
