"""Make samples/张巷镇人民政府2021年报.xlsx: the seed report (张巷镇 2021) as a filled template.

The numbers and the narrative are those of the report 张巷镇 published for 2021
(../shared/seed/zhangxiang-2021-published.txt); the labels are the official ones from the
format, so the seed's own label mistakes are not carried over. The narrative keeps the seed's
wording (typing slips included, stray spaces removed), because the sample reproduces what
was published.

The template is made by nianbao and then filled with openpyxl, as a person fills input cells.
(That is acceptable for our own sample; a unit's returned workbook is never re-saved.)
openpyxl does not store computed formula results; nianbao recomputes every total anyway.

Run from the repository root:  python samples/make_sample.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import openpyxl

from nianbao.format import load_format
from nianbao.template import make_template

HERE = Path(__file__).resolve().parent
OUT = HERE / "张巷镇人民政府2021年报.xlsx"
YEAR = 2021

UNIT = {
    "name": "张巷镇人民政府",
    "code": "",
    "compiler": "张巷镇党政办公室",
    "contact": "张巷镇党政办公室",
    "phone": "0795－6532011",
    "address": "丰城市张巷镇人民政府",
    "url": "丰城市人民政府门户网站中“政府信息公开年报”栏目（网址：http://www.jxfc.gov.cn/xxgk-show-123660.html）",
}

# Table 二 as published; tables 三 and 四 are all 0 in the seed report.
NUMBERS = {
    "t2.regulations.issued": 0, "t2.regulations.repealed": 0, "t2.regulations.valid": 0,
    "t2.normative_documents.issued": 0, "t2.normative_documents.repealed": 0, "t2.normative_documents.valid": 0,
    "t2.licensing.decisions": 1,
    "t2.punishment.decisions": 4,
    "t2.coercion.decisions": 0,
    "t2.fees.amount": 0,
}

NARRATIVES = {
    "active": (
        "张巷镇人民政府2021年在政府网站政务信息公开总计93条，其中包括工作动态80条，公开指南1条，机构概况1条，"
        "法规文件5条，规划计划1条，人事信息2条，财政信息2条，政府信息公开年报1条，申请公开0条。"
    ),
    "on_request": "2021年张巷镇人民政府共受理依申请公开0件。",
    "management": (
        "一是加强组织领导。张巷镇政府高度重视政务公开工作，目前已形成由镇党委统一领导，办公室牵头协调，"
        "各部门单位各负其责，全员积极参与，镇纪委协调监督的信息公开领导体制和工作格局。\n"
        "二是明确政务公开流程。首先由各部门具体指派专人负责公开信息的填报，信息填报后由部门负责人对拟公开的信息"
        "进行初审，通过初审并报经分管领导复审后，提交办公室复核后在政府信息公开网站发布。信息公开申请受理答复各环节"
        "制度规范，对公开事项内容进行审核把关，确保公开内容的合法性、准确性、严肃性，确保公开的范围、形式、时限、"
        "程序等符合《中华人民共和国政府信息公开条例》的相关要求。"
    ),
    "platforms": (
        "张巷镇人民政府信息公开途径，利用张巷镇人民政府信息公开平台和便民服务大厅集中公开，一是加强以丰城市人民"
        "政府网站为载体的政务公开信息平台建设，由专人负责网站后台正常运行和管理，明确管理人员职责，确保网站安全和"
        "正常运行。二是围绕群众关心关切的问题，利用镇便民服务大厅及村级党群服务中心、三务公开栏，积极张贴发布群众"
        "关心的信息，建成政府公开专区，方面群众咨询、查询及办理相关事项。"
    ),
    "oversight": (
        "一是加强组织保障。成立了由主要领导负总责，分管领导主抓，办公室具体负责，专人处理政府信息的分工及工作机制。"
        "信息公开领导小组先后多次召开专题会议，认真学习有关信息公开的文件和会议精神，研究部署信息公开有关工作。\n"
        "二是强化监督，完善公开制度。2021年，我镇进一步完善信息公开机制，严格遵守信息保密审查制度，确保涉密信息"
        "不公开，公开信息不涉密。同时，强化监督检查工作，实行定期检查与不定期检查相结合，鼓励干部、群众积极参与监督。\n"
        "2021年，张巷镇政务公开工作主动接受各单位和群众的社会监督、社会评议，评议总体结果优秀，满意度达100%。"
        "2021年全年我镇未发生政务公开责任追究情况。"
    ),
    "problems": (
        "2021年，张巷镇在丰城市政府办的指导下，信息公开工作在前一年的基础上取得了良好成效，但是离上级要求、群众的"
        "期盼还存在不足，主要表现在：1、重表面内容，轻实质问题。一是公开的内容不够深，表面事项公开多，深层次的问题"
        "公开少。二是公开的内容不全面，事后公开多，事前、事中公开少。2、重简单公开，轻及时反馈，认为只要公开就完成"
        "了任务，对群众提出的要求没有作进步的说明和解释，或避重就轻。"
    ),
    "improvements": (
        "1、加强领导，明确职责。在强化管理上下功夫。首先，要建立建全政务公开工作的领导机构。其次，要明确各有关部门"
        "在政务公开工作中的职责。\n"
        "2、加强培训，广泛宣传。首先要通过多种形式，组织广大干部加强培训，学习有关政务公开的法律、法规政策，\n"
        "3、加强热点公开，拓展公开内容，在贴近群众上下功夫。政务公开的热点是人、财、物公开，必须及时公开，"
        "使群众了解主要内容，接受群众监督。"
    ),
    # The seed's part 六 is a bare "无"; the 2021 format splits the part in two sub-headings.
    "fees": "无",
    "other_matters": "无",
}


def make_sample(out: Path = OUT) -> Path:
    fmt = load_format("gov-info-disclosure-2021")
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.xlsx"
        make_template(fmt, UNIT, YEAR, template, token="sample-zhangxiang-2021")
        wb = openpyxl.load_workbook(template)
        inputs = {f"unit.{k}": v for k, v in UNIT.items() if k not in ("name", "code")}
        inputs.update({f"narrative.{k}": v for k, v in NARRATIVES.items()})
        for cell in fmt.input_cells:
            inputs[cell.id] = NUMBERS.get(cell.id, 0)  # everything the seed does not list is 0
        for ident, value in inputs.items():
            _set(wb, ident, value)
        wb.save(out)
    return out


def _set(wb, ident: str, value: object) -> None:
    from nianbao.format.model import defined_name

    name = defined_name(ident)
    defined = wb.defined_names.get(name)
    if defined is None:
        raise SystemExit(f"template has no defined name {name}")
    (sheet, ref), = defined.destinations
    wb[sheet][ref.replace("$", "")].value = value


if __name__ == "__main__":
    path = make_sample(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(path)
