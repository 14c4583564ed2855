// seismo-eval: runs Seismo's univariate detectors over NAB-format data and writes
// RESULTS/<detector>/<category>/<series>.csv (timestamp,anomaly_score) for nab_score.py.
//
//   seismo-eval [DATA_DIR] [--results DIR] [--detector NAME]... [--set KEY=VALUE]...
//
// Detectors: seasonal (forecast band + likelihood + alarm suppression), seasonal-band
// (squashed band distance only), ensemble (seasonal plus a robust level-shift detector, each
// score as its own likelihood, combined by maximum before the alarm suppression). Each series is fitted on its probation period and then
// scored causally.
import Foundation
import SeismoDetect
import Synchronization

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("seismo-eval: \(message)\n".utf8))
    exit(2)
}

func next(_ arguments: inout IndexingIterator<ArraySlice<String>>, _ what: String) -> String {
    guard let value = arguments.next() else { fail(what) }
    return value
}

func main() {
    var dataDir = "../shared/data/nab-dev/data"
    var resultsDir = "RESULTS"
    var detectors: [String] = []
    var settings: [(String, Double)] = []
    var debug = false
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let arg = arguments.next() {
        switch arg {
        case "--results": resultsDir = next(&arguments, "--results needs a directory")
        case "--detector": detectors.append(next(&arguments, "--detector needs a name"))
        case "--set":
            let kv = next(&arguments, "--set needs KEY=VALUE").split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let v = Double(kv[1]) else { fail("--set needs KEY=VALUE with a number") }
            settings.append((String(kv[0]), v))
        case "--debug": debug = true
        case "-h", "--help":
            print("usage: seismo-eval [DATA_DIR] [--results DIR] [--detector seasonal|seasonal-band|ensemble]... [--set KEY=VALUE]...")
            exit(0)
        default:
            if arg.hasPrefix("-") { fail("unknown option \(arg)") }
            dataDir = arg
        }
    }
    if detectors.isEmpty { detectors = ["seasonal", "seasonal-band"] }

    let data = dataDir, results = resultsDir, overrides = settings, details = debug

    func runner(for detector: String) -> NABRunner {
        var r = NABRunner()
        switch detector {
        case "seasonal": break
        case "ensemble": r = NABRunner.ensemble
        case "seasonal-band":
            r.transform.likelihoodWeight = 0
            r.transform.suppression = 0
        default: fail("unknown detector \(detector)")
        }
        for (key, value) in overrides {
            switch key {
            case "bandWidth": r.seasonal.bandWidth = value
            case "harmonics": r.seasonal.harmonics = Int(value)
            case "levelSmoothing": r.seasonal.levelSmoothing = value
            case "seasonalSmoothing": r.seasonal.seasonalSmoothing = value
            case "scaleSmoothing": r.seasonal.scaleSmoothing = value
            case "updateClip": r.seasonal.updateClip = value
            case "trendDamping": r.seasonal.trendDamping = value
            case "trend": r.seasonal.trend = value != 0
            case "refitInterval": r.seasonal.refitInterval = Int(value)
            case "refitWindow": r.seasonal.refitWindow = Int(value)
            case "shortWindow": r.transform.shortWindow = Int(value)
            case "warmup": r.transform.warmup = Int(value)
            case "longWindow": r.transform.longWindow = Int(value)
            case "historyLength": r.transform.historyLength = Int(value)
            case "likelihoodWeight": r.transform.likelihoodWeight = value
            case "alarmLevel": r.transform.alarmLevel = value
            case "suppression": r.transform.suppression = Int(value)
            case "levelShiftWeight": r.transform.levelShiftWeight = value
            case "shiftRecent": r.levelShift?.recent = Int(value)
            case "shiftReference": r.levelShift?.reference = Int(value)
            default: fail("unknown setting \(key)")
            }
        }
        return r
    }

    let fm = FileManager.default
    guard let enumerator = fm.enumerator(atPath: data) else { fail("cannot read \(data)") }
    let files = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".csv") }.sorted()
    if files.isEmpty { fail("no CSV files under \(data)") }

    for detector in detectors {
        let r = runner(for: detector)
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: files.count) { k in
            let rel = files[k]
            do {
                let text = try String(contentsOfFile: data + "/" + rel, encoding: .utf8)
                let series = try NABSeries(csv: text)
                let (scores, points) = r.run(times: series.times, values: series.values)
                var out = details ? "timestamp,anomaly_score,value,yhat,yhat_lower,yhat_upper,score\n" : "timestamp,anomaly_score\n"
                for i in scores.indices {
                    out += "\(series.timestamps[i]),\(scores[i])"
                    if details, let p = points[i] {
                        out += ",\(p.value),\(p.forecast.yhat),\(p.forecast.yhatLower),\(p.forecast.yhatUpper),\(p.score)"
                    } else if details {
                        out += ",\(series.values[i]),,,,"
                    }
                    out += "\n"
                }
                let path = results + "/" + detector + "/" + rel
                try fm.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try out.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                FileHandle.standardError.write(Data("seismo-eval: \(rel): \(error)\n".utf8))
                failures.withLock { $0 += 1 }
            }
        }
        let failed = failures.withLock { $0 }
        print("\(detector): \(files.count - failed) series written to \(results)/\(detector)")
        if failed > 0 { exit(1) }
    }
}

main()
