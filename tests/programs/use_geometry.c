/* use_geometry.c: uses libgeometry.so (geometry.c), a shared library of the
 * project's own, and the static inline helpers of geometry.h.
 *
 * usage: use_geometry [concave] [full]
 *   concave  adds a dent to the polygon so that it is no longer convex
 *   full     tries to add more points than a polygon holds
 */
#include <stdio.h>
#include <string.h>

#include "geometry.h"

static void report(const char *label, const struct geo_polygon *polygon)
{
  printf("%s: %d points, area %.2f, perimeter %.2f, %s\n", label, polygon->count,
         geo_area(polygon), geo_perimeter(polygon),
         geo_is_convex(polygon) ? "convex" : "concave");
}

int main(int argc, char **argv)
{
  struct geo_polygon polygon = {0};
  int concave = 0, full = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "concave") == 0)
      concave = 1;
    else if (strcmp(argv[i], "full") == 0)
      full = 1;
  }

  geo_add_point(&polygon, geo_make_point(0, 0));
  geo_add_point(&polygon, geo_make_point(4, 0));
  if (concave)
    geo_add_point(&polygon, geo_make_point(2, 1));
  geo_add_point(&polygon, geo_make_point(4, 4));
  geo_add_point(&polygon, geo_make_point(0, 4));
  report("polygon", &polygon);

  printf("(1,1) inside: %d\n", geo_contains(&polygon, geo_make_point(1, 1)));
  printf("(5,1) inside: %d\n", geo_contains(&polygon, geo_make_point(5, 1)));
  printf("turn at (4,0): %.1f\n",
         geo_cross(polygon.points[0], polygon.points[1], polygon.points[2]));

  if (full) {
    int added = 0;
    while (geo_add_point(&polygon, geo_make_point(added, -1)))
      added++;
    printf("added %d points before the polygon was full\n", added);
  }
  return 0;
}
