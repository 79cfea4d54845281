// A handler, as Lambda's _HANDLER names it, and the bundle it runs. No
// imports: the CDK construct uses it too, under Deno or Node.js.

/** The default handler: the bundle function.bundle.js, its export `handler`. */
export const DEFAULT_HANDLER = "function.handler";

/**
 * The bundle a handler names, as the bootstrap reads _HANDLER: the module is
 * everything up to the first dot of the last path segment, so `index.handler`
 * runs index.bundle.js and `api/index.main` runs api/index.bundle.js. Throws
 * when the handler is not `<module>.<export>` or leaves the task root.
 */
export function bundleName(handler: string): string {
  const slash = handler.lastIndexOf("/");
  const dot = handler.indexOf(".", slash + 1);
  const module = handler.slice(0, dot);
  const exported = handler.slice(dot + 1);
  const segments = module.split("/");
  if (
    dot < 0 || !exported || exported.endsWith(".") || handler.startsWith("/") ||
    segments.some((s) => s === "" || s === "." || s === "..")
  ) {
    throw new Error(
      `Bad handler "${handler}": expected <module>.<export> inside the function, ` +
        `for example ${DEFAULT_HANDLER} or index.handler`,
    );
  }
  return `${module}.bundle.js`;
}
