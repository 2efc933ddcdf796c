/// Every strategy, correct ones first, then the busted twins (one table, as in rcutorture).
public enum StrategyRegistry {
    public static let all: [any Strategy.Type] = [
        NoSync.self,
        MMapLock.self,
        BustedNoZap.self,
        BustedOverlap.self,
        BustedLeak.self,
        BustedLostPut.self,
        BustedBounds.self,
    ]

    public static var correct: [any Strategy.Type] { all.filter { !$0.info.isBusted } }
    public static var busted: [any Strategy.Type] { all.filter { $0.info.isBusted } }
    public static var names: [String] { all.map { $0.info.name } }

    public static func named(_ name: String) -> (any Strategy.Type)? {
        all.first { $0.info.name == name }
    }
}
