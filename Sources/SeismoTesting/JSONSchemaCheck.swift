import Foundation

/// Validates JSON against a JSON Schema with python3's `jsonschema` (Draft 2020-12, with
/// format checks), the independent validator the schema tests use.
public enum JSONSchemaCheck {
    static let script = """
        import json, sys
        from jsonschema import Draft202012Validator
        schema = json.load(open(sys.argv[1]))
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [e.message for e in validator.iter_errors(json.load(sys.stdin))]
        print("\\n".join(errors))
        sys.exit(1 if errors else 0)
        """

    /// Whether `json` is valid against the schema at `schemaPath`, and the validator's
    /// messages (one per violation).
    public static func validate(_ json: [UInt8], schema schemaPath: String) async throws -> (valid: Bool, output: String) {
        let out = try await ProcessRunner.run("/usr/bin/env", ["python3", "-c", script, schemaPath], stdin: Data(json))
        return (out.status == 0, out.stdout + out.stderr)
    }
}
