/* geometry.c: libgeometry.so, a small polygon library used by use_geometry. */
#include "geometry.h"

#include <math.h>

int geo_add_point(struct geo_polygon *polygon, struct geo_point p)
{
  if (polygon->count >= GEO_MAX_POINTS)
    return 0;
  polygon->points[polygon->count++] = p;
  return 1;
}

double geo_distance(struct geo_point a, struct geo_point b)
{
  double dx = a.x - b.x, dy = a.y - b.y;
  return sqrt(dx * dx + dy * dy);
}

/* Shoelace formula. */
double geo_area(const struct geo_polygon *polygon)
{
  double twice = 0;
  for (int i = 0; i < polygon->count; i++) {
    const struct geo_point *a = &polygon->points[i];
    const struct geo_point *b = &polygon->points[(i + 1) % polygon->count];
    twice += a->x * b->y - b->x * a->y;
  }
  return fabs(twice) / 2;
}

double geo_perimeter(const struct geo_polygon *polygon)
{
  double total = 0;
  for (int i = 0; i < polygon->count; i++)
    total += geo_distance(polygon->points[i], polygon->points[(i + 1) % polygon->count]);
  return total;
}

int geo_is_convex(const struct geo_polygon *polygon)
{
  int sign = 0;
  if (polygon->count < 3)
    return 0;
  for (int i = 0; i < polygon->count; i++) {
    double cross = geo_cross(polygon->points[i], polygon->points[(i + 1) % polygon->count],
                             polygon->points[(i + 2) % polygon->count]);
    int s = cross > 0 ? 1 : cross < 0 ? -1 : 0;
    if (s == 0)
      continue;
    if (sign == 0)
      sign = s;
    else if (s != sign)
      return 0;
  }
  return 1;
}

/* Ray casting. */
int geo_contains(const struct geo_polygon *polygon, struct geo_point p)
{
  int inside = 0;
  for (int i = 0, j = polygon->count - 1; i < polygon->count; j = i++) {
    const struct geo_point *a = &polygon->points[i], *b = &polygon->points[j];
    if ((a->y > p.y) != (b->y > p.y) && p.x < (b->x - a->x) * (p.y - a->y) / (b->y - a->y) + a->x)
      inside = !inside;
  }
  return inside;
}

/* Not used by use_geometry: never runs. */
struct geo_point geo_centroid(const struct geo_polygon *polygon)
{
  struct geo_point c = geo_make_point(0, 0);
  for (int i = 0; i < polygon->count; i++) {
    c.x += polygon->points[i].x;
    c.y += polygon->points[i].y;
  }
  if (polygon->count > 0) {
    c.x /= polygon->count;
    c.y /= polygon->count;
  }
  return c;
}
