import EtcdProto

extension EtcdStore {
    /// `Maintenance.Alarm`, as etcd applies it: GET lists the raised alarms (of one type, or all for NONE);
    /// ACTIVATE raises one for a member and answers it; DEACTIVATE clears one and answers it, or answers nothing
    /// if it was not raised. Clearing NOSPACE lets writes that add data through again (until the quota is exceeded
    /// anew). Alarms live in memory: after a restart, the next write over the quota raises NOSPACE again.
    public func alarm(_ request: AlarmRequest) -> AlarmResponse {
        lock.withLock {
            let member = AlarmMember(memberID: request.memberID, alarm: request.alarm)
            var answered: [AlarmMember] = []
            switch request.action {
            case 0:
                answered = alarms.filter { request.alarm == 0 || $0.alarm == request.alarm }
            case 1 where request.alarm != 0:
                if !alarms.contains(member) { alarms.append(member) }
                answered = [member]
            case 2:
                if let index = alarms.firstIndex(of: member) {
                    alarms.remove(at: index)
                    answered = [member]
                }
            default:
                break
            }
            return AlarmResponse(header: identity.header(revision: durableRevision), alarms: answered)
        }
    }

    /// Whether NOSPACE is raised. Lock held.
    var isNoSpaceRaised: Bool { alarms.contains { $0.alarm == AlarmMember.noSpace } }

    /// Raises NOSPACE for this member, as etcd does when a write would exceed the quota. Lock held.
    func raiseNoSpace() {
        let member = AlarmMember(memberID: identity.memberID, alarm: AlarmMember.noSpace)
        if !alarms.contains(member) { alarms.append(member) }
    }
}
