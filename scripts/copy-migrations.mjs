// tsc copies neither .sql files nor data: put the migrations beside the compiled migrate.js
// and the bundled WordPiece vocabulary (src/ml/assets) where the compiled tokenizer reads it.
import { cpSync } from 'node:fs';

for (const dir of ['db/migrations', 'ml/assets']) {
  cpSync(new URL(`../src/${dir}`, import.meta.url), new URL(`../dist/${dir}`, import.meta.url), { recursive: true });
}
