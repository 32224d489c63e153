// `roadveil audit RECORD...`: checks audit records against the files they name (review/audit_check.hpp,
// docs/audit.md). Exit 0: every check passed; 4: a check failed; 1: a record cannot be read.
#include <iostream>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "pipeline/audit_record.hpp"
#include "review/audit_check.hpp"

namespace roadveil::cli {

void add_audit_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("audit", "Check audit records (OUTPUT.audit.json) against the files: hashes, and re-rendering the regions file reproduces the output's hidden area (exit 4 when a check fails)");
  struct State {
    std::vector<std::string> records;
    std::string input, models, json_path;
    bool no_rerender = false, quiet = false;
  };
  auto state = std::make_shared<State>();
  cmd->add_option("records", state->records, "Audit records (OUTPUT.audit.json) or the outputs they describe")->required();
  cmd->add_option("--input", state->input, "Where the input is now, when it moved since the run (one record)");
  cmd->add_option("--models", state->models, "Models folder to check the recorded model files against (default: $ROADVEIL_MODELS)");
  cmd->add_flag("--no-rerender", state->no_rerender, "Check hashes only, not the hidden area");
  cmd->add_option("--json", state->json_path, "Write the results as JSON to this file (- for stdout)");
  cmd->add_flag("-q,--quiet", state->quiet, "Print nothing but errors");
  cmd->callback([state, &action] {
    action = [state] {
      auto& s = *state;
      {
        std::vector<std::string> read = s.records;
        for (const std::string& r : s.records) read.push_back(pipeline::audit_path_for(r).string());
        read.push_back(s.input);
        refuse_report_over_inputs(s.json_path, read);
      }
      if (!s.input.empty() && s.records.size() != 1) throw roadveil::Error("--input names the input of one record; give one record");
      review::AuditOptions options;
      if (!s.input.empty()) options.input = s.input;
      if (!s.models.empty()) options.models_dir = s.models;
      options.rerender = !s.no_rerender;
      nlohmann::json report = {{"records", nlohmann::json::array()}};
      bool all_passed = true;
      std::vector<std::string> named;  // the files the records were checked against: the report replaces none
      int unreadable = 0, failed = 0;  // records that could not be read; records read whose checks failed
      for (const std::string& given : s.records) {
        std::filesystem::path record = given;
        if (record.extension() != ".json") record = pipeline::audit_path_for(record);
        // A record that cannot be read is a failed record, not the end of the command (the others are checked
        // and the report written).
        review::AuditResult result;
        try {
          result = review::check_audit_record(record, options);
          failed += !result.passed();
        } catch (const Error& e) {
          std::cerr << "roadveil: error: " << e.what() << "\n";
          ++unreadable;
          result.record = record;
          review::AuditCheck c{"record"};
          c.detail = e.what();
          result.checks.push_back(c);
        }
        all_passed = all_passed && result.passed();
        report["records"].push_back(result.to_json());
        for (const auto& f : result.files) named.push_back(f.string());
        if (s.quiet || s.json_path == "-") continue;
        std::cout << record.string() << ": " << (result.passed() ? "PASSED" : "FAILED") << "\n";
        for (const auto& c : result.checks)
          std::cout << "  " << (c.skipped ? "skipped" : c.ok ? "ok     " : "FAILED ") << " " << c.what << ": " << c.detail << "\n";
      }
      report["passed"] = all_passed;
      if (!s.json_path.empty()) {
        // The files the records named are known only now: the output, input and regions file of each.
        refuse_report_over_inputs(s.json_path, named);
        write_json_report(report, s.json_path);
      }
      // A failed check outweighs an unreadable record: a script must not read "tampered" as "could not read"
      // (one of each exited 1).
      return failed ? kExitFound : unreadable ? kExitFailure : kExitOk;
    };
  });
}

}  // namespace roadveil::cli
