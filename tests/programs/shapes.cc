// shapes.cc: C++ classes with virtual functions and an abstract base, a
// derived class chain, a function template and a class template each
// instantiated twice, and lambdas. No exceptions, no iostream (printf is
// far cheaper to trace).
//
// usage: shapes [triangle] [big]
//   triangle  also builds a Triangle (otherwise its code never runs)
//   big       scales every shape by 10
#include <cstdio>
#include <cstring>

namespace shapes {

class Shape {
 public:
  virtual ~Shape() {}
  virtual double area() const = 0;
  virtual double perimeter() const = 0;
  virtual const char* name() const { return "shape"; }
};

class Circle : public Shape {
 public:
  explicit Circle(double radius) : radius_(radius) {}
  double area() const override { return 3.14159 * radius_ * radius_; }
  double perimeter() const override { return 2 * 3.14159 * radius_; }
  const char* name() const override { return "circle"; }

 private:
  double radius_;
};

class Rectangle : public Shape {
 public:
  Rectangle(double width, double height) : width_(width), height_(height) {}
  double area() const override { return width_ * height_; }
  double perimeter() const override { return 2 * (width_ + height_); }
  const char* name() const override { return "rectangle"; }

 protected:
  double width_, height_;
};

class Square : public Rectangle {
 public:
  explicit Square(double side) : Rectangle(side, side) {}
  const char* name() const override { return "square"; }
};

class Triangle : public Shape {
 public:
  Triangle(double a, double b, double c) : a_(a), b_(b), c_(c) {}
  double area() const override
  {
    // Heron's formula without sqrt: returns the squared area.
    double s = perimeter() / 2;
    return s * (s - a_) * (s - b_) * (s - c_);
  }
  double perimeter() const override { return a_ + b_ + c_; }

 private:
  double a_, b_, c_;
};

template <typename T>
T largest(const T* values, int count)
{
  T best = values[0];
  for (int i = 1; i < count; i++)
    if (values[i] > best)
      best = values[i];
  return best;
}

template <typename T, int Capacity>
class Stack {
 public:
  bool push(T value)
  {
    if (size_ == Capacity)
      return false;
    items_[size_++] = value;
    return true;
  }
  T pop() { return items_[--size_]; }
  bool empty() const { return size_ == 0; }
  int size() const { return size_; }

 private:
  T items_[Capacity];
  int size_ = 0;
};

template <typename F>
void apply_all(double* values, int count, F f)
{
  for (int i = 0; i < count; i++)
    values[i] = f(values[i]);
}

}  // namespace shapes

int main(int argc, char** argv)
{
  using namespace shapes;
  bool with_triangle = false;
  double scale = 1;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "triangle") == 0)
      with_triangle = true;
    else if (std::strcmp(argv[i], "big") == 0)
      scale = 10;
  }

  Stack<Shape*, 8> shapes;
  shapes.push(new Circle(1 * scale));
  shapes.push(new Rectangle(2 * scale, 3 * scale));
  shapes.push(new Square(4 * scale));
  if (with_triangle)
    shapes.push(new Triangle(3 * scale, 4 * scale, 5 * scale));

  double areas[8];
  int count = 0;
  while (!shapes.empty()) {
    Shape* shape = shapes.pop();
    areas[count++] = shape->area();
    std::printf("%s: area %.2f, perimeter %.2f\n", shape->name(), shape->area(),
                shape->perimeter());
    delete shape;
  }

  int sides[] = {3, 9, 4, 1};
  std::printf("largest area %.2f, most sides %d\n", largest(areas, count), largest(sides, 4));

  Stack<int, 2> small;
  int pushed = 0;
  for (int i = 0; i < 3; i++)
    pushed += small.push(i) ? 1 : 0;
  std::printf("pushed %d of 3 into a stack of %d\n", pushed, small.size());

  double factor = 0.5;
  apply_all(areas, count, [factor](double a) { return a * factor; });
  apply_all(areas, count, [](double a) { return a + 1; });
  std::printf("halved plus one: %.2f\n", largest(areas, count));
  return 0;
}
