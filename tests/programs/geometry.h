/* geometry.h: the interface of libgeometry.so (see geometry.c). */
#ifndef HWCOV_TEST_GEOMETRY_H
#define HWCOV_TEST_GEOMETRY_H

#define GEO_MAX_POINTS 16

struct geo_point {
  double x, y;
};

struct geo_polygon {
  int count;
  struct geo_point points[GEO_MAX_POINTS];
};

/* Compiled into both libgeometry.so and its users (static inline at -O0). */
static inline struct geo_point geo_make_point(double x, double y)
{
  struct geo_point p = {x, y};
  return p;
}

static inline double geo_cross(struct geo_point o, struct geo_point a, struct geo_point b)
{
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

int geo_add_point(struct geo_polygon *polygon, struct geo_point p);
double geo_distance(struct geo_point a, struct geo_point b);
double geo_area(const struct geo_polygon *polygon);
double geo_perimeter(const struct geo_polygon *polygon);
int geo_is_convex(const struct geo_polygon *polygon);
int geo_contains(const struct geo_polygon *polygon, struct geo_point p);
struct geo_point geo_centroid(const struct geo_polygon *polygon);

#endif
