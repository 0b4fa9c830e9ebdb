//! Every WGSL file under shaders/ parses and validates with naga, as the renderer composes it.

use std::collections::BTreeSet;
use std::path::Path;
use wiredraw_render::gpu::{SHADER_FILES, shader_source};

#[test]
fn every_shader_file_is_used_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shaders");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wgsl"))
        .collect();
    let known: BTreeSet<String> = SHADER_FILES
        .iter()
        .map(|(name, _)| name.to_string())
        .chain(["common.wgsl".to_string()])
        .collect();
    assert_eq!(on_disk, known, "shaders/ and gpu::SHADER_FILES disagree");

    for name in &on_disk {
        let source = shader_source(name).unwrap();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
    }
}

#[test]
fn shader_entry_points_exist() {
    let spheres = naga::front::wgsl::parse_str(&shader_source("spheres.wgsl").unwrap()).unwrap();
    let arrows = naga::front::wgsl::parse_str(&shader_source("arrows.wgsl").unwrap()).unwrap();
    let names = |module: &naga::Module| -> BTreeSet<String> {
        module.entry_points.iter().map(|e| e.name.clone()).collect()
    };
    assert_eq!(
        names(&spheres),
        BTreeSet::from(
            [
                "vs_impostor",
                "fs_impostor",
                "vs_dot",
                "fs_dot",
                "vs_mesh",
                "fs_mesh"
            ]
            .map(String::from)
        )
    );
    assert_eq!(
        names(&arrows),
        BTreeSet::from(["vs_arrow", "fs_arrow", "fs_arrow_fading"].map(String::from))
    );
}
