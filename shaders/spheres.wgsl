// Host spheres. Two techniques share the instance layout (`GpuSphere` in src/gpu/spheres.rs):
// - impostor: a camera-facing triangle per sphere, ray-cast per fragment, exact depth written;
//   spheres a few pixels across take the cheaper `vs_dot`/`fs_dot` on the same triangle;
// - mesh: an instanced icosphere, kept as a fallback and as the measured baseline.

// Scalars only, so the array stride is the 24 bytes of `GpuSphere`.
struct PackedSphere {
    center_x: f32,
    center_y: f32,
    center_z: f32,
    radius: f32,
    // sRGB colour, 8 bits per channel from the lowest byte; alpha carries the fade.
    color: u32,
    state: u32,
};

@group(1) @binding(0) var<storage, read> instances: array<PackedSphere>;

struct SphereInstance {
    center: vec3<f32>,
    radius: f32,
    // Linear base colour with the dim and hover states applied; alpha is the fade.
    color: vec4<f32>,
    state: u32,
};

// The sphere that vertex `vertex` of the draw belongs to.
fn sphere_of(vertex: u32) -> SphereInstance {
    let packed = instances[vertex / shape_len()];
    let srgb = unpack4x8unorm(packed.color);
    return SphereInstance(
        vec3<f32>(packed.center_x, packed.center_y, packed.center_z),
        packed.radius,
        vec4<f32>(base_color(srgb.rgb, packed.state), srgb.a),
        packed.state,
    );
}

// The linear colour a sphere is lit with. Computed per vertex: it is constant over the sphere,
// and per fragment its sRGB decoding cost as much as the lighting.
fn base_color(srgb: vec3<f32>, state: u32) -> vec3<f32> {
    var base = srgb_to_linear(srgb);
    if (state & STATE_DIMMED) != 0u {
        let grey = dot(base, vec3<f32>(0.2126, 0.7152, 0.0722));
        base = mix(base, vec3<f32>(grey), 0.75) * 0.35;
    }
    if (state & STATE_HOVERED) != 0u {
        base = mix(base, srgb_to_linear(frame.hover_color.rgb), 0.45);
    }
    return base;
}

struct ImpostorVarying {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) @interpolate(flat) center: vec3<f32>,
    @location(2) @interpolate(flat) radius: f32,
    @location(3) @interpolate(flat) color: vec4<f32>,
    @location(4) @interpolate(flat) state: u32,
};

struct SphereFragment {
    @location(0) color: vec4<f32>,
    @builtin(frag_depth) depth: f32,
};

// Lambert with ambient and a small specular term, plus the selection ring (or, on a flagged
// sphere that is not selected, the alert ring); `base` comes from
// `base_color`; `normal`, `to_eye` and `light` (towards the key light) are unit vectors in one
// frame.
fn shade_sphere(
    base: vec3<f32>,
    state: u32,
    normal: vec3<f32>,
    to_eye: vec3<f32>,
    light: vec3<f32>,
) -> vec3<f32> {
    let diffuse = max(dot(normal, light), 0.0);
    let half_vector = normalize(light + to_eye);
    // x^48 as x^32 · x^16 by squaring: a software rasteriser evaluates `pow` as exp2(log2),
    // several times dearer per fragment.
    let x = max(dot(normal, half_vector), 0.0);
    let x2 = x * x;
    let x4 = x2 * x2;
    let x8 = x4 * x4;
    let x16 = x8 * x8;
    let specular = x16 * x16 * x16 * 0.35;
    var color = base * (0.22 + 0.78 * diffuse) + vec3<f32>(specular);
    let facing = dot(normal, to_eye);
    if facing < 0.4 {
        if (state & STATE_SELECTED) != 0u {
            color = srgb_to_linear(frame.selection_color.rgb);
        } else if (state & STATE_FLAGGED) != 0u {
            color = srgb_to_linear(frame.alert_color.rgb);
        }
    }
    return color;
}

// Where corner `corner` of a sphere's impostor triangle goes, and the frame it was placed in.
struct ImpostorCorner {
    world: vec3<f32>,
    clip: vec4<f32>,
    // The radius as drawn, after the fade's growth.
    radius: f32,
    // Across and up the screen, and towards the eye, at the sphere (zero when dropped).
    right: vec3<f32>,
    up: vec3<f32>,
    axis: vec3<f32>,
};

fn impostor_corner(sphere: SphereInstance, corner: vec2<f32>) -> ImpostorCorner {
    var out: ImpostorCorner;
    out.radius = sphere.radius * fade_scale(sphere.color.a);
    out.world = sphere.center;
    let to_eye = frame.camera_position.xyz - sphere.center;
    let distance = length(to_eye);
    if distance <= out.radius * 1.001 || out.radius <= 0.0 {
        // The eye is inside the sphere: drop it (a degenerate triangle rasterises nothing).
        // The point lies inside the clip volume on purpose: with it outside (z = -2), lavapipe
        // sent every batch of sphere vertices through its clipper even when no sphere in view
        // took this branch, and the clipper's bookkeeping was 40 % of a 10,000-host frame
        // (measured; see docs/PERFORMANCE.md).
        out.clip = vec4<f32>(0.0, 0.0, 0.5, 1.0);
        return out;
    }
    out.axis = to_eye / distance;
    out.right = normalize(frame.camera_right.xyz - out.axis * dot(frame.camera_right.xyz, out.axis));
    out.up = cross(out.axis, out.right);
    // The triangle lies in the plane touching the sphere's nearest point, around the tangent
    // cone's cross-section there, so it covers the silhouette and every ray-cast depth is behind
    // it.
    let radius = out.radius;
    let half_size = (distance - radius) * radius / sqrt(distance * distance - radius * radius);
    out.world = sphere.center + out.axis * radius
        + (out.right * corner.x + out.up * corner.y) * half_size;
    out.clip = frame.view_proj * vec4<f32>(out.world, 1.0);
    return out;
}

@vertex
fn vs_impostor(@builtin(vertex_index) vertex: u32) -> ImpostorVarying {
    let sphere = sphere_of(vertex);
    let placed = impostor_corner(sphere, shape_vertices[vertex % shape_len()].xy);
    var out: ImpostorVarying;
    out.clip = placed.clip;
    out.world = placed.world;
    out.center = sphere.center;
    out.radius = placed.radius;
    out.color = sphere.color;
    out.state = sphere.state;
    return out;
}

@fragment
fn fs_impostor(in: ImpostorVarying) -> SphereFragment {
    if dithered_out(in.clip.xy, in.color.a) {
        discard;
    }
    let eye = frame.camera_position.xyz;
    let ray = normalize(in.world - eye);
    // Closest approach of the ray to the centre, computed from the perpendicular offset rather
    // than |oc|^2 - r^2, which loses all precision for small, distant spheres.
    let to_center = in.center - eye;
    let along = dot(to_center, ray);
    let perpendicular = to_center - ray * along;
    let h = in.radius * in.radius - dot(perpendicular, perpendicular);
    if h < 0.0 {
        discard;
    }
    let hit = eye + ray * (along - sqrt(h));
    let normal = (hit - in.center) / in.radius;
    let clip = frame.view_proj * vec4<f32>(hit, 1.0);
    var out: SphereFragment;
    out.depth = clip.z / clip.w;
    out.color = encode_output(shade_sphere(in.color.rgb, in.state, normal, -ray, frame.light_direction.xyz));
    return out;
}

struct DotVarying {
    @builtin(position) clip: vec4<f32>,
    // Where on the silhouette disc, in its radii (the triangle's corners lie at distance 2).
    @location(0) disc: vec2<f32>,
    @location(1) @interpolate(flat) color: vec4<f32>,
    @location(2) @interpolate(flat) state: u32,
    // Towards the key light, in the disc's frame (right, up, towards the eye).
    @location(3) @interpolate(flat) light: vec3<f32>,
};

// Spheres a few pixels across: the impostor's triangle, shaded as seen from straight ahead and
// without writing depth. At that size the view-angle and depth errors are under a pixel, and
// the ray cast and depth write were most of a small sphere's fragment cost.
@vertex
fn vs_dot(@builtin(vertex_index) vertex: u32) -> DotVarying {
    let sphere = sphere_of(vertex);
    let corner = shape_vertices[vertex % shape_len()].xy;
    let placed = impostor_corner(sphere, corner);
    var out: DotVarying;
    out.clip = placed.clip;
    out.disc = corner;
    out.color = sphere.color;
    out.state = sphere.state;
    let light = frame.light_direction.xyz;
    out.light = vec3<f32>(dot(light, placed.right), dot(light, placed.up), dot(light, placed.axis));
    return out;
}

@fragment
fn fs_dot(in: DotVarying) -> @location(0) vec4<f32> {
    let off_centre = dot(in.disc, in.disc);
    if off_centre > 1.0 || dithered_out(in.clip.xy, in.color.a) {
        discard;
    }
    let normal = vec3<f32>(in.disc, sqrt(1.0 - off_centre));
    let to_eye = vec3<f32>(0.0, 0.0, 1.0);
    return encode_output(shade_sphere(in.color.rgb, in.state, normal, to_eye, in.light));
}

struct MeshVarying {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) @interpolate(flat) color: vec4<f32>,
    @location(3) @interpolate(flat) state: u32,
};

@vertex
fn vs_mesh(@builtin(vertex_index) vertex: u32) -> MeshVarying {
    let sphere = sphere_of(vertex);
    let unit_position = shape_vertices[vertex % shape_len()].xyz;
    var out: MeshVarying;
    let radius = sphere.radius * fade_scale(sphere.color.a);
    let world = sphere.center + unit_position * radius;
    out.world = world;
    out.normal = unit_position;
    out.color = sphere.color;
    out.state = sphere.state;
    out.clip = frame.view_proj * vec4<f32>(world, 1.0);
    return out;
}

@fragment
fn fs_mesh(in: MeshVarying) -> @location(0) vec4<f32> {
    if dithered_out(in.clip.xy, in.color.a) {
        discard;
    }
    let to_eye = normalize(frame.camera_position.xyz - in.world);
    return encode_output(shade_sphere(
        in.color.rgb,
        in.state,
        normalize(in.normal),
        to_eye,
        frame.light_direction.xyz,
    ));
}
