/* Built twice, as libplugin_a.so and (with -DPLUGIN_B) libplugin_b.so: the
 * dynamic loader usually maps the second at the address the first had. */
int plugin_value(int x) {
#ifdef PLUGIN_B
  if (x > 10)
    return x * 3;
  return x + 100;
#else
  if (x > 10)
    return x * 2;
  return x + 1;
#endif
}
