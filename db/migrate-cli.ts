import { runMigrations } from './migrate.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required (npm start migrates its embedded PostgreSQL by itself)');
  process.exit(2);
}
await runMigrations(url);
console.log('migrations applied');
