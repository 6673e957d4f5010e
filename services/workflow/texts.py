"""Every text workflow writes for a person to read (the reasons of assignments and escalations, the
names of queues and priorities), in one place, Chinese by default. No I/O here.

A text is a `str.format` pattern under a stable key; `Texts(overrides)` replaces some of them (a
tenant's own wording, later), and a missing or malformed override falls back to the default, so a
tenant's typo never stops a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from collections.abc import Mapping

DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        # assignment (派单)
        "assign.back": "退回/重开：交还之前处理过的 {user}",
        "assign.named": "节点指定处理人 {user}",
        "assign.pool": "{pool}（{count} 人）：任一成员可处理或领取",
        "assign.supervisor": "上一处理人 {previous} 的主管 {boss}",
        "assign.backup": "{reason}；但{why}",
        "assign.backup_step": "{user}{trouble}，由其备岗 {backup} 接手",
        "assign.absent": "请假中",
        "assign.full": "已满负荷（{load}/{capacity} 单处理中）",
        "assign.transferred": "{by} 转派（原处理人 {was}）",
        "assign.claimed": "{by} 领取自{pool}",
        "assign.sandbox": "流程沙箱：{by} 修改了处理规则{why}；{reason}",
        # assignment strategies (dispatch/)
        "dispatch.load": "{load}/{capacity} 单处理中",
        "dispatch.chosen": "{where}：{user} {load}",
        "dispatch.least_loaded_among": "{role} 中负载最低",
        "dispatch.least_loaded_at": "{site} 负载最低",
        "dispatch.saturated": "{site} 已饱和（{share}）",
        "dispatch.overflow": "{where}，由 {full} 溢出（阈值 {threshold}）",
        "dispatch.also": "{where}；{full}",
        "dispatch.nearest": "距 {place} 最近的 {role}：{user}，{km} 公里，{load}",
        "dispatch.nearest_site": "距 {place} 最近的服务网点：{site}，{km} 公里；该网点负载最低：{user} {load}",
        "dispatch.on_duty": "周{weekday} {time}（{zone}）值班：{user}（班次 {shifts}），{load}",
        "dispatch.always": "全天",
        "dispatch.round_robin": "{role} 轮流派单：{user}（{after}；{load}）",
        "dispatch.after": "接在上一位 {user} 之后",
        "dispatch.first": "第一位",
        "dispatch.by_skill": "{skill}{region}：{user} 符合条件且负载最低，{load}",
        "dispatch.skill": "技能 {skills}",
        "dispatch.no_skill": "无特定技能要求",
        "dispatch.region": "，区域 {region}",
        "dispatch.longest_idle": "{role} 中空闲最久：{user}（{since}；{load}）",
        "dispatch.last_assigned": "上次派单 {at}",
        "dispatch.never": "尚未派过单",
        # nobody fits: the unassigned queue (待派单队列)
        "nobody.no_rule": "节点没有处理规则",
        "nobody.empty_pool": "{pool} 目前没有任何成员",
        "nobody.no_supervisor": "{previous} 没有登记主管",
        "nobody.no_previous": "没有上一处理人，无从找其主管",
        "nobody.rule_found_nobody": "派单规则「{rule}」没有找到合适的人",
        "nobody.rule_unavailable": "派单规则「{rule}」暂不可用",
        "nobody.queued": "{why}：进入{queue}，等待派单员领取",
        "queue.name": "待派单队列（{role}{site}）",
        "queue.site": "，网点 {site}",
        "pool.role": "角色 {value} 的处理池",
        "pool.department": "部门 {value} 的处理池",
        "pool.queue": "待派单队列 {value}",
        # SLA escalation (升级)
        "sla.response": "响应",
        "sla.resolution": "解决",
        "sla.missed": "节点「{node}」的{clock}时限（{target}）已超时",
        "sla.vip_reminder": "{missed}；VIP 客户：第 {k}/{times} 次提醒 {handler}",
        "sla.remind": "{missed}：再次提醒 {handler}",
        "sla.tell_supervisor": "{missed}：通知 {handler} 的主管 {boss}",
        "sla.no_supervisor_fallback": "{missed}：{handler} 没有登记主管，改为通知 {fallback}",
        "sla.no_supervisor": "{missed}：{handler} 没有登记主管，无人可通知",
        "sla.reassigned": "{missed}：由 {handler} 改派给备岗 {backup}",
        "sla.escalation": "时效升级：{reason}",
        # priority (优先级)
        "priority.normal": "普通",
        "priority.urgent": "紧急",
        "priority.vip": "VIP",
        "priority.from_field": "字段「{field}」为 {value}",
        "priority.from_customer": "VIP 客户",
        "priority.from_keyword": "描述含关键词「{keyword}」",
        "priority.default": "未命中任何优先级规则",
    }
)


@dataclass(frozen=True)
class Texts:
    overrides: Mapping[str, str] = field(default_factory=dict)

    def say(self, key: str, **params: Any) -> str:
        """The text `key` with `params` filled in: the override if it formats, else the default."""
        pattern = self.overrides.get(key)
        if pattern is not None:
            try:
                return pattern.format(**params)
            except (KeyError, IndexError, ValueError):
                pass
        return DEFAULTS[key].format(**params)


TEXTS = Texts()
say = TEXTS.say
