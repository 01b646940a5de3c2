import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Derivatives, gradients and the chain rule")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import calculus
    from llmmath.autograd import Value
    from llmmath.lessons import _kit as kit

    return Value, calculus, kit, math, mo, np


@app.cell(hide_code=True)
def _(kit):
    kit.header("derivatives")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Training a language model means adjusting millions of numbers so that a
    single number, the loss, goes down. To know which way to turn each knob
    we need to know how the loss responds to a small turn of that knob alone:
    a **partial derivative**. Collect one per knob and you have the
    **gradient**. Networks are long chains of simple steps, and the **chain
    rule** lets us get every one of those partial derivatives by multiplying
    small local derivatives together. This lesson builds the three ideas on
    examples small enough to check by hand, and draws the computation as a
    graph whose every node shows its value and its gradient.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"f'(x) = \lim_{h \to 0} \frac{f(x + h) - f(x)}{h}",
        caption=(
            "The fraction is the slope of a secant: the straight line through the two points "
            "(x, f(x)) and (x + h, f(x + h)) of the curve. As the step h shrinks, the second "
            "point slides towards the first and the secant turns into the tangent; its slope "
            "is the derivative, the rate at which f changes at x."
        ),
    )
    return


@app.cell(hide_code=True)
def _(kit, mo, x_at):
    mo.md(f"""
    ## One variable: $y = x^2 + 3x + 1$

    The rules of differentiation give $dy/dx = 2x + 3$ at once. Three other
    ways to reach the same slope at $x = {kit.fmt(x_at, 0)}$ follow: the autograd
    engine `Value` records the expression and runs the chain rule backwards; a
    secant with a tiny step approximates the limit; and the formula is
    evaluated directly.
    """)
    return


@app.cell
def _(Value, calculus, mo):
    def poly(t):
        return t * t + 3 * t + 1  # works on floats, arrays and Values alike

    x_at = 2.0
    x_node = Value(x_at, label="x")
    y_node = poly(x_node)
    y_node.backward()  # fills x_node.grad with dy/dx

    slope_autograd = x_node.grad
    slope_formula = 2 * x_at + 3
    tiny = 1e-6
    slope_secant = float(calculus.difference_quotient(poly, x_at, tiny))
    mo.show_code()
    return poly, slope_autograd, slope_formula, slope_secant, tiny, x_at


@app.cell(hide_code=True)
def _(kit, mo, slope_autograd, slope_formula, slope_secant, tiny, x_at):
    mo.md(f"""
    At $x = {kit.fmt(x_at, 0)}$: autograd gives **{kit.fmt(slope_autograd, 6)}**,
    the formula $2x + 3$ gives {kit.fmt(slope_formula, 6)}, and a forward secant
    with $h = {tiny:g}$ gives {kit.fmt(slope_secant, 6)} (off by
    {slope_secant - slope_formula:.1e}: the step is small but not zero).
    The syllabus's PyTorch snippet prints this slope too; the ledger agrees with it:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("002-dydx-at-2")
    return


@app.cell(hide_code=True)
def _(mo):
    h_step = mo.ui.slider(
        steps=[2.0, 1.5, 1.0, 0.75, 0.5, 0.3, 0.2, 0.1, 0.05, 0.01, 0.001],
        value=1.0, show_value=True, label="step h", debounce=False,
    )
    x_point = mo.ui.slider(start=-4.0, stop=2.5, step=0.5, value=2.0, show_value=True,
                           label="point x", debounce=False)
    return h_step, x_point


@app.cell(hide_code=True)
def _(h_step, mo, x_point):
    mo.vstack([
        mo.md(r"""
        ## Try it: from secant to tangent

        Move the step $h$ towards zero and watch the secant (orange) swing
        onto the tangent (dashed). The right panel shows how far the secant's
        slope is from the true derivative for every step size, on log scales.
        """),
        mo.hstack([x_point, h_step], justify="start", gap=2),
    ])
    return


@app.cell
def _(calculus, h_step, kit, mo, poly, x_point):
    x0, h = kit.value(x_point), kit.value(h_step)
    secant = float(calculus.difference_quotient(poly, x0, h))                      # forward
    central = float(calculus.difference_quotient(poly, x0, h, scheme="central"))
    tangent = 2 * x0 + 3                                                            # exact
    mo.show_code()
    return central, h, secant, tangent, x0


@app.cell(hide_code=True)
def _(calculus, central, h, kit, mo, np, poly, secant, tangent, x0):
    _fig, (_ax, _err) = kit.figure(1, 2, size=(9.0, 3.3))
    _t = np.linspace(x0 - 3.0, x0 + 3.0, 200)
    _ax.plot(_t, poly(_t), color="0.2", label="y = x² + 3x + 1")
    _ax.plot(_t, poly(x0) + tangent * (_t - x0), "--", color="tab:blue", label="tangent")
    _ax.plot(_t, poly(x0) + secant * (_t - x0), color="tab:orange", label="secant")
    _ax.plot([x0, x0 + h], [poly(x0), poly(x0 + h)], "o", color="tab:orange")
    _ax.set_ylim(poly(_t).min() - 3, poly(_t).max() + 1)
    _ax.set_xlabel("x")
    _ax.set_title(f"slope of the secant {kit.fmt(secant, 3)}, tangent {kit.fmt(tangent, 3)}")
    _ax.legend(loc="upper left")

    _hs = np.logspace(-13, 0.3, 60)
    _fwd = np.abs(calculus.difference_quotient(poly, x0, _hs) - tangent)
    _cen = np.abs(calculus.difference_quotient(poly, x0, _hs, scheme="central") - tangent)
    # an error of exactly 0 has no place on a log scale: those steps are left out
    _err.loglog(_hs[_fwd > 0], _fwd[_fwd > 0], "o", color="tab:blue", ms=3,
                label="forward (secant)")
    _err.loglog(_hs[_cen > 0], _cen[_cen > 0], "s", color="tab:green", ms=3,
                label="central (exact but for rounding)")
    _err.axvline(h, color="tab:orange", lw=1)
    _err.minorticks_off()  # minor log ticks cost more to lay out than they add
    _err.set_xlabel("step h")
    _err.set_ylabel("|slope − dy/dx|")
    _err.set_title("error of the slope")
    _err.legend(loc="upper left")
    _sqrt_eps = float(np.sqrt(np.finfo(float).eps))
    mo.vstack([
        kit.show(_fig, alt="the curve with its secant and tangent; the slope error against h"),
        mo.md(f"""
        With $h = {kit.fmt(h, 3)}$ at $x = {kit.fmt(x0, 1)}$ the secant's slope is
        **{kit.fmt(secant, 6)}**; the derivative is $2x + 3 = {kit.fmt(tangent, 6)}$, so the
        secant overshoots by {kit.fmt(secant - tangent, 6)}, which is $h$ itself. For a
        parabola the overshoot is exactly $h$: $\\big((x+h)^2 - x^2\\big)/h = 2x + h$.
        The central difference $\\big(f(x+h) - f(x-h)\\big)/2h$ gives {kit.fmt(central, 6)}
        for any $h$. Below about $h = \\sqrt{{\\varepsilon}} \\approx {kit.sci(_sqrt_eps, 1)}$
        ($\\varepsilon$ is the spacing of float64 numbers near 1) the forward errors on
        the left of the right panel rise again: $f(x+h)$ and $f(x)$ agree in almost every
        digit, and their difference is mostly rounding.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Several variables: partial derivatives and a graph

    A loss depends on many numbers at once. A **partial derivative** asks
    how it responds to one of them while the others stay fixed:
    $\partial f/\partial x$ treats $y$ as a constant, and
    $\partial f/\partial y$ treats $x$ as one.

    Take $f(x, y) = \tanh(xy + y^2)$. We write it as a chain of elementary
    steps, $u = xy$, $w = y^2$, $v = u + w$, $f = \tanh v$, and let the
    scalar engine `Value` record each step. Every step knows its own **local
    derivative** (for $u = xy$: $\partial u/\partial x = y$ and
    $\partial u/\partial y = x$). `backward()` then starts from
    $\partial f/\partial f = 1$ and walks the graph from right to left,
    multiplying each node's gradient by the local derivative on each edge
    and adding what arrives at every input.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    x_in = mo.ui.slider(start=-2.0, stop=2.0, step=0.1, value=1.0, show_value=True,
                        label="x", debounce=False)
    y_in = mo.ui.slider(start=-2.0, stop=2.0, step=0.1, value=0.5, show_value=True,
                        label="y", debounce=False)
    mo.hstack([x_in, y_in], justify="start", gap=2)
    return x_in, y_in


@app.cell
def _(Value, kit, mo, x_in, y_in):
    x = Value(kit.value(x_in), label="x")
    y = Value(kit.value(y_in), label="y")
    u = x * y
    u.label = "u"
    w = y**2
    w.label = "w"
    v = u + w
    v.label = "v"
    f = v.tanh()
    f.label = "f"
    f.backward()  # every node's .grad is now df/d(node)
    mo.show_code()
    return f, u, v, w, x, y


@app.cell(hide_code=True)
def _(f, kit, mo, u, v, w, x, y):
    _fig = f.draw(figsize=(8.5, 3.0))
    _rows = [x, y, u, w, v, f]
    _table = kit.matrix_table(
        [[n.data, n.grad] for n in _rows],
        ["x", "y", "u = x·y", "w = y²", "v = u + w", "f = tanh v"],
        ["value", "gradient df/d(node)"], digits=4,
    )
    mo.vstack([
        kit.show(_fig, alt="the computation graph of f with every value, local derivative "
                           "and gradient"),
        mo.md(f"""
        Each box holds a node's value (forward pass) and its gradient (backward pass); each
        edge is labelled with its operation and local derivative ∂. Blue boxes are the
        inputs, the yellow one the output. The same numbers as a table:
        {_table}
        """),
    ])
    return


@app.cell(hide_code=True)
def _(f, kit, mo, numeric_partials, partial_x, partial_y, x, y):
    _dtanh = 1 - f.data**2  # d tanh(v)/dv = 1 - tanh(v)^2
    mo.md(f"""
    ### The chain rule, edge by edge

    The gradient of $x$ is the product of the local derivatives along its only
    path to $f$:

    $$\\frac{{\\partial f}}{{\\partial x}} = \\frac{{\\partial f}}{{\\partial v}}\\cdot
    \\frac{{\\partial v}}{{\\partial u}}\\cdot\\frac{{\\partial u}}{{\\partial x}}
    = (1 - \\tanh^2 v)\\cdot 1\\cdot y = {kit.fmt(_dtanh, 4)}\\times 1\\times
    {kit.fmt(y.data, 2)} = {kit.fmt(partial_x, 4)}.$$

    $y$ reaches $f$ along **two** paths, through $u$ and through $w$, and its
    gradient is the **sum** of the two products:

    $$\\frac{{\\partial f}}{{\\partial y}} = (1 - \\tanh^2 v)\\,(x + 2y)
    = {kit.fmt(_dtanh, 4)}\\times({kit.fmt(x.data, 2)} + {kit.fmt(2 * y.data, 2)})
    = {kit.fmt(partial_y, 4)}.$$

    That is why `backward()` *adds* into `.grad` rather than overwriting it.
    Central differences, which know nothing about graphs, agree:
    $\\partial f/\\partial x \\approx {kit.fmt(numeric_partials[0], 6)}$ and
    $\\partial f/\\partial y \\approx {kit.fmt(numeric_partials[1], 6)}$.
    """)
    return


@app.cell
def _(calculus, f_xy, mo, np, x, y):
    partial_x, partial_y = x.grad, y.grad  # from backward()
    point = np.array([x.data, y.data])
    numeric_partials = calculus.numerical_gradient(lambda p: f_xy(p[0], p[1]), point)
    mo.show_code()
    return numeric_partials, partial_x, partial_y, point


@app.cell
def _(np):
    def f_xy(a, b):
        return np.tanh(a * b + b * b)  # the same f, for arrays (grids, finite differences)

    return (f_xy,)


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("000-chain-rule-three-functions")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The gradient points uphill

    The **gradient** stacks the partial derivatives into a vector,
    $\nabla f = (\partial f/\partial x,\ \partial f/\partial y)$. Its job
    becomes clear when we ask how fast $f$ changes along an arbitrary unit
    direction $\mathbf u$: that rate, the directional derivative, is
    $D_{\mathbf u} f = \nabla f \cdot \mathbf u = \lVert\nabla f\rVert\cos\theta$,
    with θ the angle between $\mathbf u$ and the gradient. It is largest,
    $\lVert\nabla f\rVert$, when $\mathbf u$ points along $\nabla f$:
    the gradient is the direction of **steepest ascent**. Its negative is the
    direction of steepest descent, which is why training *subtracts* it.
    One syllabus page says the opposite; the ledger keeps the record:
    """)
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("000-gradient-points-downhill"),
               kit.claim_badge("002-gradient-steepest-ascent")])
    return


@app.cell
def _(calculus, f_xy, mo, np, point):
    angles = np.linspace(0.0, 2 * np.pi, 73)  # 5-degree steps, unit directions u
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (72+1, 2)
    # D_u f: the slope of t -> f(point + t u) at t = 0, by central differences
    slopes = np.array([
        float(calculus.difference_quotient(
            lambda t, d=d: f_xy(point[0] + t * d[0], point[1] + t * d[1]), 0.0, 1e-6,
            scheme="central"))
        for d in directions
    ])
    mo.show_code()
    return angles, slopes


@app.cell(hide_code=True)
def _(angles, f_xy, kit, mo, np, partial_x, partial_y, point, slopes):
    _g = np.array([partial_x, partial_y])
    _norm = float(np.linalg.norm(_g))
    _fig, (_ax, _dd) = kit.figure(1, 2, size=(9.0, 3.6))
    _grid = np.linspace(-2.2, 2.2, 121)
    _X, _Y = np.meshgrid(_grid, _grid)
    _cs = _ax.contourf(_X, _Y, f_xy(_X, _Y), levels=15, cmap="RdBu_r", vmin=-1, vmax=1)
    _ax.contour(_X, _Y, f_xy(_X, _Y), levels=15, colors="k", linewidths=0.3)
    if _norm > 0:
        _scale = 0.8 / _norm
        for _sign, _colour, _name in ((1, "black", "∇f (ascent)"),
                                      (-1, "tab:green", "−∇f (descent)")):
            _ax.annotate("", xy=tuple(point + _sign * _scale * _g), xytext=tuple(point),
                         arrowprops={"arrowstyle": "-|>", "color": _colour, "lw": 2})
            _ax.plot([], [], color=_colour, lw=2, label=_name)
    _ax.plot(*point, "o", color="black", ms=5)
    _ax.set_aspect("equal")
    _ax.set_xlabel("x")
    _ax.set_ylabel("y")
    _ax.set_title("f(x, y) = tanh(xy + y²)")
    _ax.legend(loc="lower left", framealpha=0.9)
    _fig.colorbar(_cs, ax=_ax, shrink=0.8)
    _theta = np.degrees(np.arctan2(_g[1], _g[0])) % 360
    _dd.plot(np.degrees(angles), slopes, color="0.2")
    _dd.axvline(_theta, color="black", ls="--", lw=1, label=f"direction of ∇f ({_theta:.0f}°)")
    _dd.axhline(_norm, color="tab:red", lw=1, label=f"‖∇f‖ = {kit.fmt(_norm, 3)}")
    _dd.axhline(0, color="0.6", lw=0.8)
    _dd.set_xticks(range(0, 361, 90))
    _dd.set_xlabel("direction of u (degrees)")
    _dd.set_ylabel(r"$D_{\mathbf{u}} f$")
    _dd.set_title("rate of change along each direction")
    _dd.legend(loc="lower left", fontsize=8)
    _best = np.degrees(angles[int(np.argmax(slopes))])
    mo.vstack([
        kit.show(_fig, alt="contours of f with the gradient arrow, and the directional "
                           "derivative against the angle"),
        mo.md(f"""
        At $(x, y) = ({kit.fmt(point[0], 1)}, {kit.fmt(point[1], 1)})$ the gradient is
        $({kit.fmt(partial_x, 3)}, {kit.fmt(partial_y, 3)})$, pointing at {_theta:.0f}°
        with length {kit.fmt(_norm, 3)}. Among the {len(angles) - 1} directions tried
        (every {360 / (len(angles) - 1):.0f}°) the
        fastest rise is {kit.fmt(slopes.max(), 3)} at {_best:.0f}°, and the fastest fall
        is {kit.fmt(slopes.min(), 3)}, on the opposite side. The arrow crosses the
        contour lines at right angles: along a contour $f$ does not change, so the
        gradient has no component there. Move the sliders above to move the point.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(calculus, kit, poly, slope_formula, x_at):
    _h = 0.5
    _c = float(calculus.difference_quotient(poly, x_at, _h, scheme="central"))
    kit.check_yourself(
        f"The forward secant of $y = x^2 + 3x + 1$ overshoots the slope by exactly $h$. "
        f"Why does the central difference give the exact slope even with a big step such as "
        f"$h = {_h}$?",
        f"$\\big((x+h)^2 - (x-h)^2\\big)/2h = 2x$ and the linear term gives 3 exactly: the "
        f"$h^2$ terms cancel. At $x = {kit.fmt(x_at, 0)}$ with $h = {_h}$ the central "
        f"difference is {kit.fmt(_c, 6)}, against {kit.fmt(slope_formula, 6)}. In general "
        f"the central error shrinks like $h^2$ (it involves the third derivative, which is "
        f"0 for a parabola), the forward one only like $h$.",
    )
    return


@app.cell(hide_code=True)
def _(kit, partial_y, u, w, x, y):
    kit.check_yourself(
        "In the graph, $y$ feeds both $u = xy$ and $w = y^2$. If `backward()` wrote "
        "each contribution into `y.grad` instead of adding it, what would go wrong?",
        f"Only the path visited last would count. Here the path through $u$ brings "
        f"{kit.fmt(u.grad * x.data, 4)} and the path through "
        f"$w$ brings {kit.fmt(w.grad * 2 * y.data, 4)}; the true partial derivative is their "
        f"sum, {kit.fmt(partial_y, 4)}. A weight that is reused (as embeddings and attention "
        f"weights are, at every position) collects one term per use in the same way.",
    )
    return


@app.cell(hide_code=True)
def _(kit, np, partial_x, partial_y):
    _g = np.array([partial_x, partial_y])
    _n = float(np.linalg.norm(_g))
    kit.check_yourself(
        "For the point set by the sliders, which unit direction lowers $f$ fastest, and "
        "at what rate? What does a gradient-descent step with learning rate η do?",
        f"The direction $-\\nabla f/\\lVert\\nabla f\\rVert = "
        f"({kit.fmt(-_g[0] / _n if _n else 0.0, 3)}, {kit.fmt(-_g[1] / _n if _n else 0.0, 3)})$, "
        f"where $f$ falls at rate $\\lVert\\nabla f\\rVert = {kit.fmt(_n, 3)}$ per unit "
        f"step. A descent step moves the point by $-\\eta\\nabla f$: in that direction, "
        f"by a distance proportional to the steepness.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - The derivative is the limit of secant slopes; finite differences stop
      at a small step and pay for it with truncation error (large $h$) or
      rounding error (tiny $h$).
    - A partial derivative varies one input and freezes the others; the
      gradient stacks them, and it points in the direction of steepest
      **ascent**. Descent goes along $-\nabla f$.
    - The chain rule multiplies local derivatives along a path and **adds**
      over paths; that is all `backward()` does, one edge at a time.
    - Every gradient the course computes can be checked against finite
      differences, which need nothing but function values.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("derivatives")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("derivatives")
    return


@app.cell
def test_slope_at_two_by_hand(slope_autograd, x_at):
    # d/dx (x^2 + 3x + 1) = 2x + 3, and the limit of secants by plain arithmetic
    assert abs(slope_autograd - (2 * x_at + 3)) < 1e-12
    for _h in (1e-3, 1e-4):
        _sec = ((x_at + _h) ** 2 + 3 * (x_at + _h) + 1 - (x_at**2 + 3 * x_at + 1)) / _h
        assert abs(_sec - slope_autograd) < 2 * _h
    return


@app.cell
def test_secant_follows_the_sliders(central, h, secant, tangent, x0):
    _f0 = x0 * x0 + 3 * x0 + 1
    _f1 = (x0 + h) * (x0 + h) + 3 * (x0 + h) + 1
    _fm = (x0 - h) * (x0 - h) + 3 * (x0 - h) + 1
    assert abs(secant - (_f1 - _f0) / h) < 1e-9
    assert abs(central - (_f1 - _fm) / (2 * h)) < 1e-9
    assert abs(tangent - (2 * x0 + 3)) < 1e-12
    assert abs((secant - tangent) - h) < 1e-9  # the parabola's overshoot is exactly h
    return


@app.cell
def test_graph_gradients_by_chain_rule(f, math, partial_x, partial_y, x, y):
    _v = x.data * y.data + y.data**2
    assert abs(f.data - math.tanh(_v)) < 1e-15
    _d = 1 - math.tanh(_v) ** 2
    assert abs(partial_x - _d * y.data) < 1e-12
    assert abs(partial_y - _d * (x.data + 2 * y.data)) < 1e-12
    return


@app.cell
def test_gradient_is_steepest_ascent(math, partial_x, partial_y, point):
    def _f(a, b):
        return math.tanh(a * b + b * b)

    _h = 1e-6
    _best, _best_angle = -math.inf, 0.0
    for _k in range(3600):  # every tenth of a degree
        _t = 2 * math.pi * _k / 3600
        _c, _s = math.cos(_t), math.sin(_t)
        _rate = (_f(point[0] + _h * _c, point[1] + _h * _s)
                 - _f(point[0] - _h * _c, point[1] - _h * _s)) / (2 * _h)
        if _rate > _best:
            _best, _best_angle = _rate, _t
    _norm = math.hypot(partial_x, partial_y)
    assert abs(_best - _norm) < 1e-6
    if _norm > 1e-3:  # where tanh saturates the gradient all but vanishes: no direction to find
        _grad_angle = math.atan2(partial_y, partial_x) % (2 * math.pi)
        _gap = abs((_best_angle - _grad_angle + math.pi) % (2 * math.pi) - math.pi)
        assert _gap < 2 * math.pi / 3600
    return


@app.cell
def test_directional_slopes_are_dot_products(angles, math, partial_x, partial_y, slopes):
    for _t, _s in zip(angles, slopes, strict=True):
        assert abs(_s - (partial_x * math.cos(_t) + partial_y * math.sin(_t))) < 1e-8
    return


if __name__ == "__main__":
    app.run()
