"""Books, cosmetics, bottles, toys and lighters: organic and liquid goods, glass and light metal."""

from __future__ import annotations

import numpy as np

from models.generator.objects.common import DARK_RGB, STEEL_RGB, chance, jitter, pick, shade, u
from models.generator.parts import ObjectModel, Part
from models.generator.shapes import ellipse, poly, rect, rrect


def book(rng: np.random.Generator) -> ObjectModel:
    w, h, d = u(rng, 125, 200), u(rng, 185, 260), u(rng, 12, 50)
    cname, col = pick(rng, ("red", "navy", "green", "black", "white", "yellow", "teal", "cream", "purple"))
    hard = chance(rng, 0.4)
    p = [Part(rect(w, h), "paper", d, round=1.0, colour=col)]
    if hard:
        p.append(Part(rect(w + 4, h + 6), "paper", 5, colour=col))
    accent = jitter(rng, (240, 236, 220) if sum(col) < 400 else (30, 30, 40), 15)
    p.append(Part(rect(w * 0.8, h * 0.16, 0, -h * 0.28), "paper", 0.05, colour=accent))  # title block
    p.append(Part(rect(w * 0.5, h * 0.04, 0, h * 0.38), "paper", 0.05, colour=accent))  # author
    pic = jitter(rng, (int(rng.integers(256)), int(rng.integers(256)), int(rng.integers(256))), 0)
    p.append(Part(rrect(w * 0.6, h * 0.32, 4, 0, h * 0.07), "paper", 0.05, colour=pic))
    return ObjectModel("book", p, cname, {"pages": int(d * 9)})


def perfume_bottle(rng: np.random.Generator) -> ObjectModel:
    w, h, d, wall = u(rng, 48, 80), u(rng, 65, 105), u(rng, 28, 45), u(rng, 3.5, 7)
    lname, liquid = pick(rng, ("pink", "yellow", "gold", "sky blue", "purple", "cream", "orange"))
    round_body = chance(rng, 0.35)
    body = ellipse(w / 2, h / 2) if round_body else rrect(w, h, u(rng, 4, 16))
    fill = u(rng, 0.65, 0.95)
    p = [Part(body, "glass", d, round=d * 0.3, wall=wall, colour=shade(liquid, 1.05), finish="gloss")]
    inner_h = (h - 2 * wall) * fill
    p.append(Part(rrect(w - 2 * wall, inner_h, 4, 0, h / 2 - wall - inner_h / 2), "ethanol", d - 2 * wall,
                  round=(d - 2 * wall) * 0.3, colour=liquid, finish="gloss"))
    p.append(Part(rect(1.5, h - 2 * wall, 0, 0), "plastic", 1.5))  # dip tube
    p.append(Part(rect(16, 10, 0, -h / 2 - 4), "aluminium", 16, round=8, colour=(214, 184, 130), finish="metal"))
    p.append(Part(rect(3, 8, 0, -h / 2 - 2), "steel", 3))  # pump spring
    cap_name, cap = pick(rng, ("gold", "black", "silver", "white"))
    cap_mat = "zinc_alloy" if chance(rng, 0.4) else "plastic"  # heavy decorative caps are die-cast
    cw, ch = u(rng, 22, w * 0.8), u(rng, 18, 40)
    p.append(Part(rrect(cw, ch, 3, 0, -h / 2 - 8 - ch / 2), cap_mat, min(cw, d), round=6, colour=cap,
                  finish="metal" if cap_name in ("gold", "silver") else "gloss"))
    return ObjectModel("perfume_bottle", p, lname, {"ml": int(rng.choice([30, 50, 75, 100]))})


def lipstick(rng: np.random.Generator) -> ObjectModel:
    r, base_l, bullet_l = u(rng, 8.5, 11), u(rng, 45, 55), u(rng, 12, 20)
    cname, col = pick(rng, ("gold", "black", "silver", "rose gold", "white"))
    sname, shade_col = pick(rng, ("red", "pink", "burgundy", "orange", "tan", "purple"))
    mat = "aluminium" if chance(rng, 0.6) else "plastic"
    fin = "metal" if cname in ("gold", "silver", "rose gold") else "gloss"
    p = [Part(rrect(2 * r, base_l, 2, 0, bullet_l / 2), mat, 2 * r, round=r, wall=0.8, colour=col, finish=fin)]
    p.append(Part(rect(2 * r - 3, base_l - 4, 0, bullet_l / 2), "plastic", 2 * r - 3, round=r - 1.5))
    bullet = poly([(-r + 2, -base_l / 2 + bullet_l / 2), (r - 2, -base_l / 2 + bullet_l / 2),
                   (r - 2, -base_l / 2 - bullet_l / 2 + 6), (-r + 2, -base_l / 2 - bullet_l / 2)])
    p.append(Part(bullet, "wax", 2 * r - 4, round=r - 2, colour=shade_col, finish="gloss"))
    cap_x = 2 * r + u(rng, 4, 10)
    p.append(Part(rrect(2 * r + 1, base_l * 0.9, 2, cap_x, 0), mat, 2 * r + 1, round=r, wall=0.8, colour=col,
                  finish=fin))
    return ObjectModel("lipstick", p, sname)


def liquid_bottle(rng: np.random.Generator) -> ObjectModel:
    w, h = u(rng, 55, 90), u(rng, 160, 240)
    d = w * u(rng, 0.55, 0.9)
    cname, col = pick(rng, ("white", "blue", "green", "pink", "yellow", "purple", "teal", "cream"))
    body = rrect(w, h, w * 0.25, 0, 10)
    p = [Part(body, "plastic", d, round=d * 0.45, wall=0.7, colour=col, finish="gloss")]
    fill = u(rng, 0.7, 0.97) * (h - 4)
    p.append(Part(rrect(w - 2, fill, w * 0.2, 0, 10 + (h - 4) / 2 - fill / 2), "water", d - 1.5, round=d * 0.4))
    pump = chance(rng, 0.4)
    cap = rect(w * 0.45, 28, 0, -h / 2 - 2)
    p.append(Part(cap, "plastic", w * 0.4, round=w * 0.2, colour=shade(col, 0.7) if pump else DARK_RGB))
    if pump:
        p.append(Part(rect(4, 30, 0, -h / 2), "steel", 3))  # pump spring
        p.append(Part(rect(2, h * 0.9, 0, 10), "plastic", 2))
        p.append(Part(poly([(0, -h / 2 - 16), (0, -h / 2 - 32), (26, -h / 2 - 32)]), "plastic", 10, width=9,
                      colour=shade(col, 0.7)))
    label = jitter(rng, (245, 245, 240) if sum(col) < 500 else (60, 90, 150), 12)
    p.append(Part(rect(w * 0.8, h * 0.45, 0, 20), "paper", 0.1, colour=label))
    p.append(Part(rect(w * 0.55, h * 0.05, 0, 0), "paper", 0.05, colour=shade(label, 0.4)))
    return ObjectModel("liquid_bottle", p, cname, {"ml": int(rng.choice([250, 300, 400, 500, 750]))})


def toy(rng: np.random.Generator) -> ObjectModel:
    kind = ("figure", "car", "plush", "blaster")[int(rng.integers(4))]
    cname, col = pick(rng, ("red", "blue", "yellow", "green", "orange", "purple", "pink"))
    _, col2 = pick(rng, ("white", "black", "yellow", "sky blue", "grey"))
    s = u(rng, 0.8, 1.3)
    p: list[Part] = []
    if kind == "figure":
        for (w, h, x, y), c in zip([(40, 60, 0, 0), (30, 30, 0, -48), (14, 55, -28, 0), (14, 55, 28, 0),
                                    (17, 60, -11, 60), (17, 60, 11, 60)], [col, col2, col, col, col2, col2],
                                   strict=True):
            p.append(Part(rrect(w * s, h * s, 5, x * s, y * s), "plastic", 28 * s, round=10, wall=2, colour=c,
                          finish="gloss"))
    elif kind == "car":
        p.append(Part(poly([(-90, 0), (-85, -25), (-40, -30), (-20, -55), (40, -55), (60, -30), (90, -25),
                            (92, 0)]) * s, "plastic", 70 * s, round=20, wall=2.5, colour=col, finish="gloss"))
        p.append(Part(poly([(-15, -50), (35, -50), (50, -32), (-30, -32)]) * s, "plastic", 1, colour=(60, 80, 100)))
        for x in (-55, 55):
            p.append(Part(ellipse(19 * s, 19 * s, x * s, 2 * s), "rubber", 14, round=6, colour=DARK_RGB))
            p.append(Part(ellipse(7 * s, 7 * s, x * s, 2 * s), "plastic", 15, colour=col2))
        p.append(Part(rect(120 * s, 3, 0, 2 * s), "steel", 3))  # axles
        p.append(Part(rect(50, 14, 0, -18 * s), "steel", 14, round=7))  # AA batteries
        p.append(Part(ellipse(10, 10, 30 * s, -15 * s), "copper", 12))  # motor
    elif kind == "plush":
        p.append(Part(ellipse(60 * s, 70 * s, 0, 30 * s), "foam", 90 * s, round=40, colour=col, finish="fabric"))
        p.append(Part(ellipse(48 * s, 45 * s, 0, -60 * s), "foam", 80 * s, round=35, colour=col, finish="fabric"))
        for sx in (-1, 1):
            p.append(Part(ellipse(18 * s, 18 * s, sx * 40 * s, -100 * s), "foam", 30, round=10, colour=col,
                          finish="fabric"))
            p.append(Part(ellipse(5, 5, sx * 17 * s, -65 * s), "plastic", 6, colour=DARK_RGB, finish="gloss"))
        p.append(Part(ellipse(60 * s, 70 * s, 0, 30 * s), "fabric", 4, wall=1))
    else:  # water blaster: a plastic gun shape, the classic look-alike
        body = poly([(0, 0), (170, 0), (170, 30), (70, 34), (62, 110), (30, 110), (36, 34), (0, 30)]) * s
        p.append(Part(body, "plastic", 30 * s, round=12, wall=2.5, colour=col, finish="gloss"))
        p.append(Part(rrect(60 * s, 45 * s, 8, 110 * s, -25 * s), "plastic", 34 * s, round=12, wall=1.5,
                      colour=col2, finish="gloss"))
        p.append(Part(rect(8, 100 * s, 45 * s, 20 * s), "plastic", 6))
    return ObjectModel("toy", p, cname, {"kind": kind}).centred()


def lighter(rng: np.random.Generator) -> ObjectModel:
    if chance(rng, 0.6):  # disposable: butane in a plastic body, steel hood and flint wheel
        w, h, d = u(rng, 22, 26), u(rng, 70, 82), u(rng, 11, 13)
        cname, col = pick(rng, ("red", "blue", "yellow", "green", "black", "orange", "pink", "purple"))
        p = [Part(rrect(w, h, 5, 0, 6), "plastic", d, round=d / 2, wall=1.5, colour=col, finish="gloss")]
        p.append(Part(rrect(w - 3, (h - 16) * u(rng, 0.3, 0.95), 4, 0, h / 2 - 20), "butane", d - 3, round=4))
        p.append(Part(rect(w, 14, 0, -h / 2), "steel", d, wall=0.4, colour=STEEL_RGB, finish="metal"))
        p.append(Part(ellipse(4.5, 4.5, -w * 0.2, -h / 2 - 2), "steel", 6))
        p.append(Part(rect(2, 16, w * 0.2, -h / 2 + 8), "brass", 2))
        return ObjectModel("lighter", p, cname)
    w, h, d = u(rng, 36, 40), u(rng, 55, 60), u(rng, 12, 14)
    cname, col = pick(rng, ("silver", "black", "gold", "space grey"))
    p = [Part(rrect(w, h, 4), "steel", d, round=2, wall=0.9, colour=col, finish="metal")]
    p.append(Part(rrect(w - 3, h * 0.6, 3, 0, h * 0.18), "fabric", d - 2, round=2))  # fuel wadding
    p.append(Part(rect(w * 0.6, h * 0.35, 0, -h * 0.3), "steel", d - 2, wall=0.4))  # chimney
    p.append(Part(ellipse(4, 4, w * 0.2, -h * 0.3), "steel", 6))
    p.append(Part(rect(w, 1.2, 0, -h * 0.13), "steel", d, colour=shade(col, 0.6)))  # lid seam
    return ObjectModel("lighter", p, cname)
