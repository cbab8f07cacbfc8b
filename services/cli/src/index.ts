export { defaultMigrationsDir, migrate } from './migrate.js';
