// Host spheres. Two techniques share the instance layout (`GpuSphere` in src/gpu/spheres.rs):
// - impostor: a camera-facing triangle per sphere, ray-cast per fragment, exact depth written;
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

// Lambert with ambient and a small specular term, plus the selection ring; `base` comes from
// `base_color`, `normal` and `to_eye` are unit vectors in world space.
fn shade_sphere(base: vec3<f32>, state: u32, normal: vec3<f32>, to_eye: vec3<f32>) -> vec3<f32> {
    let light = frame.light_direction.xyz;
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
    if (state & STATE_SELECTED) != 0u && facing < 0.4 {
        color = srgb_to_linear(frame.selection_color.rgb);
    }
    return color;
}

@vertex
fn vs_impostor(@builtin(vertex_index) vertex: u32) -> ImpostorVarying {
    let sphere = sphere_of(vertex);
    var out: ImpostorVarying;
    let radius = sphere.radius * fade_scale(sphere.color.a);
    let to_eye = frame.camera_position.xyz - sphere.center;
    let distance = length(to_eye);
    out.center = sphere.center;
    out.radius = radius;
    out.color = sphere.color;
    out.state = sphere.state;
    if distance <= radius * 1.001 || radius <= 0.0 {
        // The eye is inside the sphere: drop it (a degenerate triangle rasterises nothing).
        // The point lies inside the clip volume on purpose: with it outside (z = -2), lavapipe
        // sent every batch of sphere vertices through its clipper even when no sphere in view
        // took this branch, and the clipper's bookkeeping was 40 % of a 10,000-host frame
        // (measured; see docs/PERFORMANCE.md).
        out.clip = vec4<f32>(0.0, 0.0, 0.5, 1.0);
        out.world = sphere.center;
        return out;
    }
    let axis = to_eye / distance;
    let right = normalize(frame.camera_right.xyz - axis * dot(frame.camera_right.xyz, axis));
    let up = cross(axis, right);
    // The triangle lies in the plane touching the sphere's nearest point, around the tangent
    // cone's cross-section there, so it covers the silhouette and every ray-cast depth is behind
    // it.
    let plane_distance = distance - radius;
    let half_size = plane_distance * radius / sqrt(distance * distance - radius * radius);
    let corner = shape_vertices[vertex % shape_len()].xy;
    let world = sphere.center + axis * radius + (right * corner.x + up * corner.y) * half_size;
    out.world = world;
    out.clip = frame.view_proj * vec4<f32>(world, 1.0);
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
    out.color = encode_output(shade_sphere(in.color.rgb, in.state, normal, -ray));
    return out;
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
    return encode_output(shade_sphere(in.color.rgb, in.state, normalize(in.normal), to_eye));
}
