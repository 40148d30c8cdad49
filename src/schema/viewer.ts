import type { Context } from '../context.ts';
import { authenticationRequired } from '../errors.ts';

/**
 * The signed-in user's id, in a resolver whose field requires the `authenticated`
 * scope (the plugin already refused anonymous requests; this narrows the type).
 */
export function viewerId(ctx: Context): string {
  if (!ctx.viewer) throw authenticationRequired();
  return ctx.viewer.id;
}
